/**
 * Options of the Redis store: the options every store keeps (`../store-options.ts`) and its
 * key prefix. The rest of the backend only sees {@link ResolvedStoreOptions}.
 */

import { InvalidOptionError } from "../../errors.js";
import type { ResolvedOptions, ResolvedRedisBackend } from "../../options.js";
import {
  type ResolvedStoreOptionsBase,
  resolveStoreOptionsBase,
  type StoreOptions,
  storeOptionsOf,
} from "../store-options.js";
import { DEFAULT_PREFIX, KeySpace } from "./keys.js";

/** Options of `new RedisStore(redis, options)`; the durable `backend` option maps onto them. */
export interface RedisStoreOptions extends StoreOptions {
  /** Key prefix; every key lives under the hash tag `{prefix}`. @default "taskmill" */
  readonly prefix?: string;
}

/** Every store option resolved and validated. */
export interface ResolvedStoreOptions extends ResolvedStoreOptionsBase {
  readonly prefix: string;
}

/** Validates and fills in defaults; throws `InvalidOptionError` naming the bad option. */
export function resolveStoreOptions(options: RedisStoreOptions = {}): ResolvedStoreOptions {
  return { prefix: options.prefix ?? DEFAULT_PREFIX, ...resolveStoreOptionsBase(options) };
}

/** The store's options from the manager's: `backend` plus the manager's retention. */
export function redisStoreOptions(
  backend: ResolvedRedisBackend,
  options: ResolvedOptions,
): RedisStoreOptions {
  return {
    ...(backend.prefix === undefined ? {} : { prefix: backend.prefix }),
    ...storeOptionsOf(backend, options),
  };
}

/** The sharded store's options: the single store's plus each queue's partition count. */
export function shardedStoreOptions(
  backend: ResolvedRedisBackend,
  options: ResolvedOptions,
): RedisStoreOptions & { readonly partitions: Readonly<Record<string, number>> } {
  const partitions: Record<string, number> = {};
  for (const [queue, settings] of options.queues)
    if (settings.partitions !== undefined) partitions[queue] = settings.partitions;
  return { ...redisStoreOptions(backend, options), partitions };
}

/**
 * Checks the Redis backend's options at once, in the manager's constructor, so a bad value is
 * refused before any connection opens (nothing is left to keep the process alive).
 */
export function checkRedisBackend(backend: ResolvedRedisBackend, options: ResolvedOptions): void {
  if (backend.url !== undefined) redisDatabase(backend.url);
  const resolved = resolveStoreOptions(redisStoreOptions(backend, options));
  new KeySpace(resolved.prefix);
}

/**
 * The database number of a `redis://` URL: its path, `/0` to `/N` (0 when absent).
 * @throws InvalidOptionError for a URL that does not parse or a path that is not a number.
 */
export function redisDatabase(url: string): number {
  let path: string;
  try {
    path = new URL(url).pathname;
  } catch {
    throw new InvalidOptionError("backend.url", "must be a valid URL", url);
  }
  if (path === "" || path === "/") return 0;
  const db = /^\/(\d{1,5})$/.exec(path)?.[1];
  if (db === undefined)
    throw new InvalidOptionError(
      "backend.url",
      "must end in a database number such as /0 (or no path)",
      url,
    );
  return Number(db);
}
