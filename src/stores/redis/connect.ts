/**
 * The Redis side of connecting: the command client, the store on it, the connection state
 * the engine reports, and which failures mean "Redis cannot be reached". ioredis is loaded
 * here, on first use, so memory-mode users never need it installed.
 */
import type { Redis } from "ioredis";
import { InvalidOptionError } from "../../errors.js";
import { type Logger, safeLog } from "../../observability/logger.js";
import type { ResolvedOptions, ResolvedRedisBackend } from "../../options.js";
import type { ConnectionListener, StoreConnection } from "../durable-store.js";
import { importPeer } from "../peer.js";
import { withoutCredentials } from "../target.js";
import { redisDatabase, redisStoreOptions, shardedStoreOptions } from "./options.js";
import { RedisStore } from "./redis-store.js";
import { confirmLayout } from "./sharded/layout.js";
import { ShardedRedisStore } from "./sharded/sharded-store.js";

/**
 * Back fast after a restart. ioredis' defaults back off to 2 s between reconnects and, when
 * Redis answers LOADING (replaying its AOF), wait out its whole loading estimate (at least a
 * second) before trying again: clients stayed unusable for seconds after Redis was back. Here
 * reconnects are at most 250 ms apart (a cheap TCP connect to loopback or the LAN) and a
 * loading Redis is asked again every 100 ms. Clients passed as `connection` keep their own.
 */
const RECONNECT = {
  retryStrategy: (attempt: number) => Math.min(attempt * 50, 250),
  maxLoadingRetryTime: 100,
} as const;

/** Creates the client and the store; connecting happens in the background (ioredis). */
export async function connectRedis(
  backend: ResolvedRedisBackend,
  options: ResolvedOptions,
  logger: Logger,
  listener?: ConnectionListener,
): Promise<StoreConnection> {
  const { Redis } = await importPeer<typeof import("ioredis")>("ioredis", "redis");
  const redis =
    backend.connection !== undefined
      ? (backend.connection as Redis).duplicate()
      : // No auto-pipelining: measured, it deferred every write to the next check phase,
        // tripled the p99 enqueue-to-start latency and won no throughput once the result
        // reader stopped running in processes that do not need it.
        new Redis(backend.url as string, RECONNECT);
  redis.on("error", (error: unknown) => {
    safeLog(logger, "warn", { err: error }, "taskmill Redis connection error");
    if (reachingFailed(error)) listener?.failed(error);
  });
  if (listener !== undefined) redis.on("ready", () => listener.ready());
  const store =
    backend.layout === "sharded"
      ? new ShardedRedisStore(redis, shardedStoreOptions(backend, options))
      : new RedisStore(redis, redisStoreOptions(backend, options));
  return new RedisConnection(
    redis,
    store,
    backend.connection === undefined ? backend.url : undefined,
  );
}

class RedisConnection implements StoreConnection {
  readonly #redis: Redis;
  readonly store: RedisStore | ShardedRedisStore;
  /** The URL given as `backend.url` (its database is confirmed at the first ping). */
  readonly #url: string | undefined;
  /** Whether the server confirmed the database and the key slot (first ping). */
  #placed = false;
  readonly target: string;

  constructor(redis: Redis, store: RedisStore | ShardedRedisStore, url: string | undefined) {
    this.#redis = redis;
    this.store = store;
    this.#url = url;
    const { host, port, db } = redis.options;
    this.target =
      url === undefined ? `redis://${host}:${port}/${db ?? 0}` : withoutCredentials(url);
  }

  get status(): StoreConnection["status"] {
    const status = this.#redis.status;
    if (status === "end" || status === "close") return "closed";
    if (status === "ready") return "connected";
    if (status === "reconnecting") return "reconnecting";
    return "connecting";
  }

  async ping(): Promise<void> {
    await this.#redis.ping();
    if (!this.#placed) await this.#confirmPlacement();
  }

  /**
   * Once, at the first answer: the tasks go where the options say, or the options are refused.
   * ioredis selects the URL's database on connect but carries on in database 0 when Redis
   * refuses it (`/99` on a server with 16): every task would land where nobody looks. And a
   * Redis Cluster node that does not own the prefix's slot answers every command with MOVED:
   * retried, that reads as a store that never answers, its cause buried in a log.
   */
  async #confirmPlacement(): Promise<void> {
    const db = this.#url === undefined ? 0 : redisDatabase(this.#url);
    if (db !== 0) {
      try {
        await this.#redis.select(db);
      } catch (error) {
        if (this.isConnectionError(error)) throw error;
        throw new InvalidOptionError(
          "backend.url",
          `names database ${db}, which this Redis refuses (${(error as Error).message})`,
          this.#url,
        );
      }
    }
    // The sharded layout's control shard is on the prefix: its slot is checked the same way.
    const keys = this.store instanceof RedisStore ? this.store.keys : this.store.control.keys;
    try {
      await this.#redis.exists(keys.seq);
    } catch (error) {
      const message = (error as Error).message ?? "";
      if (!/^(MOVED|ASK|CROSSSLOT)\b/.test(message)) throw error;
      throw new InvalidOptionError(
        this.#url === undefined ? "backend.connection" : "backend.url",
        `is a Redis Cluster node that does not serve the slot of the keys {${keys.prefix}} (${message}): point it at the node that serves that slot`,
        this.#url ?? "an ioredis client",
      );
    }
    await confirmLayout(
      this.#redis,
      keys,
      this.store instanceof RedisStore ? "single" : "sharded",
      this.target,
    );
    this.#placed = true;
  }

  isConnectionError(error: unknown): boolean {
    const message = error instanceof Error ? error.message : "";
    return /Connection is closed|connect ECONNREFUSED|Stream isn't writeable|MaxRetriesPerRequest|ECONNRESET/i.test(
      message,
    );
  }

  async close(): Promise<void> {
    await this.#redis.quit().catch(() => this.#redis.disconnect());
  }

  destroy(): void {
    this.#redis.disconnect();
  }
}

/**
 * Whether a client error means Redis could not be reached or would not let us in: socket
 * errors (refused, unresolvable, reset) and refused credentials. Other replies (a refused
 * SELECT, which `#confirmPlacement` turns into an option error) are not reachability.
 */
function reachingFailed(error: unknown): boolean {
  if (!(error instanceof Error)) return false;
  if (error.name !== "ReplyError") return true;
  return /^(WRONGPASS|NOAUTH|NOPERM|ERR AUTH|ERR invalid password)/.test(error.message);
}
