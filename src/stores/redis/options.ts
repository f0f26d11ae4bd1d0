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
  if (typeof backend.url === "string") redisDatabase(backend.url);
  else if (backend.url !== undefined) clusterNodes(backend.url);
  const resolved = resolveStoreOptions(redisStoreOptions(backend, options));
  new KeySpace(resolved.prefix);
}

/**
 * The seed nodes of a Redis Cluster from `backend.url`'s list, with the first URL's credentials
 * and TLS (a cluster's nodes share them).
 * @throws InvalidOptionError for an empty list, a URL that does not parse or has no host, or
 *   one naming a database other than 0 (a cluster has only database 0).
 */
export function clusterNodes(urls: readonly string[]): {
  readonly nodes: Array<{ host: string; port: number }>;
  readonly username: string | undefined;
  readonly password: string | undefined;
  readonly tls: boolean;
} {
  if (urls.length === 0)
    throw new InvalidOptionError(
      "backend.url",
      "must list at least one Redis Cluster node URL",
      urls,
    );
  const nodes = urls.map((url, i) => {
    const option = `backend.url[${i}]`;
    let parsed: URL;
    try {
      parsed = new URL(url);
    } catch {
      throw new InvalidOptionError(option, "must be a valid URL", url);
    }
    if (parsed.hostname === "") throw new InvalidOptionError(option, "must name a host", url);
    const db = /^\/(\d{1,5})$/.exec(parsed.pathname)?.[1];
    if (!(parsed.pathname === "" || parsed.pathname === "/" || db === "0"))
      throw new InvalidOptionError(
        option,
        "must not name a database: a Redis Cluster has only database 0",
        url,
      );
    // URL keeps IPv6 hosts in brackets; ioredis wants them bare.
    const host = parsed.hostname.replace(/^\[(.*)\]$/, "$1");
    return { host, port: parsed.port === "" ? 6379 : Number(parsed.port) };
  });
  const first = new URL(urls[0] as string);
  return {
    nodes,
    username: first.username === "" ? undefined : decodeURIComponent(first.username),
    password: first.password === "" ? undefined : decodeURIComponent(first.password),
    tls: first.protocol === "rediss:",
  };
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
