/**
 * Picks the durable store named by `backend.type` and connects it. Each store's module is
 * loaded on first use, so a store's client library (ioredis, pg, better-sqlite3) is needed
 * only by the services that use that store.
 */
import type { Logger } from "../observability/logger.js";
import type { ResolvedOptions } from "../options.js";
import type { ResolvedDurableBackend } from "./backend-options.js";
import type { ConnectionListener, StoreConnection } from "./durable-store.js";
import { encodeJson } from "./json-codec.js";
import { checkPostgresBackend } from "./postgres/options.js";
import { checkRedisBackend } from "./redis/options.js";
import { checkSqliteBackend } from "./sqlite/options.js";

/** The durable stores' backend options, resolved. */
export type DurableBackend = ResolvedDurableBackend;

/**
 * Checks a durable backend's options synchronously, before any connection opens.
 * @throws InvalidOptionError naming the bad option.
 */
export function checkDurableBackend(backend: DurableBackend, options: ResolvedOptions): void {
  if (backend.type === "sqlite") checkSqliteBackend(backend, options);
  else if (backend.type === "postgres") checkPostgresBackend(backend, options);
  else checkRedisBackend(backend, options);
}

/** The store for `backend`, its client created (connecting goes on in the background). */
export async function connectStore(
  backend: DurableBackend,
  options: ResolvedOptions,
  logger: Logger,
  listener?: ConnectionListener,
): Promise<StoreConnection> {
  if (backend.type === "sqlite") {
    const { connectSqlite } = await import("./sqlite/connect.js");
    return connectSqlite(backend, options, logger);
  }
  if (backend.type === "postgres") {
    const { connectPostgres } = await import("./postgres/connect.js");
    return connectPostgres(backend, options, logger, listener);
  }
  const { connectRedis } = await import("./redis/connect.js");
  return connectRedis(backend, options, logger, listener);
}

/**
 * Checks at once that a durable store can keep `value` (JSON data), for the calls that store it
 * later (a cron schedule's payload, stored at every tick).
 * @throws InvalidArgumentError naming what is not JSON.
 */
export function checkDurablePayload(argument: string, value: unknown): void {
  encodeJson(argument, value);
}
