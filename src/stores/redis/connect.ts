/**
 * The Redis side of connecting: the command client, the store on it, the connection state
 * the engine reports, and which failures mean "Redis cannot be reached". ioredis is loaded
 * here, on first use, so memory-mode users never need it installed.
 */
import { InvalidOptionError } from "../../errors.js";
import { type Logger, safeLog } from "../../observability/logger.js";
import type { ResolvedOptions, ResolvedRedisBackend } from "../../options.js";
import type { ConnectionListener, StoreConnection } from "../durable-store.js";
import { importPeer } from "../peer.js";
import { withoutCredentials } from "../target.js";
import { isCluster, nodeServing, type RedisClient } from "./client.js";
import type { KeySpace } from "./keys.js";
import { clusterNodes, redisDatabase, redisStoreOptions, shardedStoreOptions } from "./options.js";
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
  const ioredis = await importPeer<typeof import("ioredis")>("ioredis", "redis");
  const redis: RedisClient =
    backend.connection !== undefined
      ? (backend.connection as RedisClient).duplicate()
      : typeof backend.url === "string"
        ? // No auto-pipelining: measured, it deferred every write to the next check phase,
          // tripled the p99 enqueue-to-start latency and won no throughput once the result
          // reader stopped running in processes that do not need it.
          new ioredis.Redis(backend.url, RECONNECT)
        : newCluster(ioredis.Cluster, backend.url as readonly string[]);
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

/**
 * A Redis Cluster client on the seed nodes of `backend.url`'s list. It learns the slot map from
 * them and follows MOVED/ASK itself; reconnects as fast as a single node's ({@link RECONNECT}).
 */
function newCluster(Cluster: typeof import("ioredis").Cluster, urls: readonly string[]) {
  const { nodes, username, password, tls } = clusterNodes(urls);
  return new Cluster(nodes, {
    clusterRetryStrategy: RECONNECT.retryStrategy,
    redisOptions: {
      maxLoadingRetryTime: RECONNECT.maxLoadingRetryTime,
      ...(username === undefined ? {} : { username }),
      ...(password === undefined ? {} : { password }),
      ...(tls ? { tls: {} } : {}),
    },
  });
}

class RedisConnection implements StoreConnection {
  readonly #redis: RedisClient;
  readonly store: RedisStore | ShardedRedisStore;
  /** The URL given as `backend.url` (its database is confirmed at the first ping). */
  readonly #url: string | undefined;
  /**
   * Whether the client is a Redis Cluster: it follows MOVED itself, so the placement check
   * does not apply, and PING goes to the node serving the store's slot.
   */
  readonly #cluster: boolean;
  /** Whether the server confirmed the database and the key slot (first ping). */
  #placed = false;
  readonly target: string;

  constructor(
    redis: RedisClient,
    store: RedisStore | ShardedRedisStore,
    url: string | readonly string[] | undefined,
  ) {
    this.#redis = redis;
    this.store = store;
    this.#cluster = isCluster(redis);
    this.#url = typeof url === "string" ? url : undefined;
    this.target = targetOf(redis, url);
  }

  get status(): StoreConnection["status"] {
    const status = this.#redis.status;
    if (status === "end" || status === "close") return "closed";
    if (status === "ready") return "connected";
    if (status === "reconnecting") return "reconnecting";
    return "connecting";
  }

  async ping(): Promise<void> {
    if (this.#cluster)
      // PING has no key: a cluster would ask any node. The store lives on the slot's node.
      await (nodeServing(this.#redis, this.#controlKeys().seq) ?? this.#redis).ping();
    else await this.#redis.ping();
    if (!this.#placed) await this.#confirmPlacement();
  }

  /** The keys of the prefix's own tag (the sharded layout's control shard). */
  #controlKeys() {
    return this.store instanceof RedisStore ? this.store.keys : this.store.control.keys;
  }

  /**
   * Once, at the first answer: the tasks go where the options say, or the options are refused.
   * ioredis selects the URL's database on connect but carries on in database 0 when Redis
   * refuses it (`/99` on a server with 16): every task would land where nobody looks. And a
   * Redis Cluster node that does not own the prefix's slot answers every command with MOVED:
   * retried, that reads as a store that never answers, its cause buried in a log.
   */
  async #confirmPlacement(): Promise<void> {
    const keys = this.#controlKeys();
    if (!this.#cluster) await this.#confirmNode(keys);
    await confirmLayout(
      this.#redis,
      keys,
      this.store instanceof RedisStore ? "single" : "sharded",
      this.target,
    );
    this.#placed = true;
  }

  /** A single node: the URL's database exists and the node serves the prefix's slot. */
  async #confirmNode(keys: KeySpace): Promise<void> {
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
  }

  isConnectionError(error: unknown): boolean {
    const message = error instanceof Error ? error.message : "";
    // The second line: a Redis Cluster without a reachable node, or without a master for a slot.
    return /Connection is closed|connect ECONNREFUSED|Stream isn't writeable|MaxRetriesPerRequest|ECONNRESET|Failed to refresh slots cache|None of startup nodes is available|Too many Cluster redirections|^CLUSTERDOWN|^TRYAGAIN/i.test(
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
 * What `health()` and logs name: the URL(s) without credentials, or for a client given as
 * `connection`, its node (a single node) or its seed nodes (a cluster).
 */
function targetOf(redis: RedisClient, url: string | readonly string[] | undefined): string {
  if (typeof url === "string") return withoutCredentials(url);
  if (url !== undefined) return url.map(withoutCredentials).join(",");
  if (!isCluster(redis)) {
    const { host, port, db } = redis.options;
    return `redis://${host}:${port}/${db ?? 0}`;
  }
  // ioredis keeps the seed nodes in a field its types call private.
  const seeds = (redis as unknown as { startupNodes?: unknown }).startupNodes;
  const nodes = Array.isArray(seeds)
    ? seeds.map((node: unknown) =>
        typeof node === "object" && node !== null
          ? `redis://${(node as { host?: string }).host ?? "localhost"}:${(node as { port?: number }).port ?? 6379}`
          : withoutCredentials(String(node)),
      )
    : [];
  return nodes.length === 0 ? "a Redis Cluster" : nodes.join(",");
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
