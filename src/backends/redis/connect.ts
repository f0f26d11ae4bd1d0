/**
 * The Redis side of connecting: the clients a durable manager needs (commands, and a second
 * connection for blocking reads of the events feed), the store on them, waiting until Redis
 * answers, and turning connection failures into `BackendUnavailableError`. ioredis is loaded
 * here, on first use, so memory-mode users never need it installed.
 */
import type { Redis } from "ioredis";
import { BackendUnavailableError } from "../../errors.js";
import { type Logger, safeLog } from "../../observability/logger.js";
import { defaultBurst, type ResolvedOptions, type ResolvedRedisBackend } from "../../options.js";
import { RedisStore } from "./redis-store.js";

/** A durable manager's Redis clients and the store on the command client. */
export interface RedisClients {
  readonly redis: Redis;
  /** Used only for blocking reads of the events stream. */
  readonly feedConnection: Redis;
  readonly store: RedisStore;
}

/** Creates the clients and the store; connecting happens in the background (ioredis). */
export async function createRedisClients(
  backend: ResolvedRedisBackend,
  options: ResolvedOptions,
  logger: Logger,
): Promise<RedisClients> {
  const { Redis } = await import("ioredis");
  const redis =
    backend.connection !== undefined
      ? (backend.connection as Redis).duplicate()
      : // No auto-pipelining: measured, it deferred every write to the next check phase,
        // tripled the p99 enqueue-to-start latency and won no throughput once the result
        // reader stopped running in processes that do not need it.
        new Redis(backend.url as string);
  redis.on("error", (error: unknown) =>
    safeLog(logger, "warn", { err: error }, "taskmill Redis connection error"),
  );
  const store = new RedisStore(redis, {
    ...(backend.prefix === undefined ? {} : { prefix: backend.prefix }),
    ...(backend.leaseMs === undefined ? {} : { leaseMs: backend.leaseMs }),
    ...(backend.maxDeliveries === undefined ? {} : { maxDeliveries: backend.maxDeliveries }),
    ...(backend.globalRate === undefined
      ? {}
      : {
          globalRate: {
            perSecond: backend.globalRate.perSecond,
            burst:
              backend.globalRate.burst ??
              defaultBurst(options.concurrency, backend.globalRate.perSecond),
          },
        }),
    retention: options.retention,
    ...(backend.deadLetters === undefined ? {} : { deadLetters: backend.deadLetters }),
  });
  return { redis, feedConnection: redis.duplicate(), store };
}

/**
 * Retries `handshake` (ioredis reconnects meanwhile) until Redis answers or `isClosed()` says
 * the manager stopped; then throws `BackendUnavailableError`.
 */
export async function untilAnswered(
  handshake: () => Promise<unknown>,
  isClosed: () => boolean,
  logger: Logger,
): Promise<void> {
  for (let delay = 100; ; delay = Math.min(delay * 2, 2_000)) {
    if (isClosed()) throw new BackendUnavailableError("the manager stopped before Redis answered");
    try {
      await handshake();
      return;
    } catch (error) {
      safeLog(logger, "warn", { err: error }, "taskmill cannot reach Redis yet; retrying");
      await new Promise((resolve) => setTimeout(resolve, delay).unref());
    }
  }
}

/** Runs a store call, turning a lost connection into `BackendUnavailableError`. */
export async function unavailableOnConnectionError<T>(call: () => Promise<T>): Promise<T> {
  try {
    return await call();
  } catch (error) {
    if (isConnectionError(error))
      throw new BackendUnavailableError((error as Error).message, { cause: error });
    throw error;
  }
}

function isConnectionError(error: unknown): boolean {
  const message = error instanceof Error ? error.message : "";
  return /Connection is closed|connect ECONNREFUSED|Stream isn't writeable|MaxRetriesPerRequest|ECONNRESET/i.test(
    message,
  );
}
