/**
 * The Redis side of connecting: the command client, the store on it, the connection state
 * the engine reports, and which failures mean "Redis cannot be reached". ioredis is loaded
 * here, on first use, so memory-mode users never need it installed.
 */
import type { Redis } from "ioredis";
import { type Logger, safeLog } from "../../observability/logger.js";
import type { ResolvedOptions, ResolvedRedisBackend } from "../../options.js";
import type { StoreConnection } from "../durable-store.js";
import { redisStoreOptions } from "./options.js";
import { RedisStore } from "./redis-store.js";

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
): Promise<StoreConnection> {
  const { Redis } = await import("ioredis");
  const redis =
    backend.connection !== undefined
      ? (backend.connection as Redis).duplicate()
      : // No auto-pipelining: measured, it deferred every write to the next check phase,
        // tripled the p99 enqueue-to-start latency and won no throughput once the result
        // reader stopped running in processes that do not need it.
        new Redis(backend.url as string, RECONNECT);
  redis.on("error", (error: unknown) =>
    safeLog(logger, "warn", { err: error }, "taskmill Redis connection error"),
  );
  const store = new RedisStore(redis, redisStoreOptions(backend, options));
  return new RedisConnection(redis, store);
}

class RedisConnection implements StoreConnection {
  readonly #redis: Redis;
  readonly store: RedisStore;

  constructor(redis: Redis, store: RedisStore) {
    this.#redis = redis;
    this.store = store;
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
