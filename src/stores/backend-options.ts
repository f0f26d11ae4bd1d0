/**
 * The `backend` option: every store's public option type, and the first resolution of the one
 * given (its shape, its keys, the deadlines every durable store shares). Each store checks its
 * own limits further, beside the store (`stores/<store>/options.ts`), before any connection
 * opens. Imports nothing from `src/options.ts`, so the two do not form an import cycle.
 */
import { InvalidOptionError } from "../errors.js";
import type { RateOptions, RetentionOptions } from "../option-types.js";
import { requireInteger, requireKnownKeys } from "../validation.js";
import {
  POSTGRES_BACKEND_KEYS,
  type PostgresBackendOptions,
  type ResolvedPostgresBackend,
  resolvePostgresBackend,
} from "./postgres/backend-options.js";
import {
  type ResolvedSqliteBackend,
  resolveSqliteBackend,
  SQLITE_BACKEND_KEYS,
  type SqliteBackendOptions,
} from "./sqlite/backend-options.js";

export type {
  PostgresBackendOptions,
  ResolvedPostgresBackend,
  ResolvedSqliteBackend,
  SqliteBackendOptions,
};

/** What every durable store's calls default to. */
export const DURABLE_DEFAULTS = {
  callTimeoutMs: 5_000,
  maxPendingCalls: 10_000,
} as const;

/** Tasks live in this process (the default). */
export interface MemoryBackendOptions {
  readonly type: "memory";
}

/**
 * Durable mode: tasks live in Redis, with leases, fenced acknowledgements and a dead-letter
 * queue, shared by every process on the same `prefix`. Needs the `ioredis` package.
 */
export interface RedisBackendOptions {
  readonly type: "redis";
  /**
   * A Redis URL such as `redis://127.0.0.1:6379/0`, or a list of them: the seed nodes of a
   * Redis Cluster (`["redis://10.0.0.1:6379", "redis://10.0.0.2:6379"]`; database 0 only, the
   * credentials and TLS of the first apply to every node). Give this or `connection`.
   */
  readonly url?: string | readonly string[];
  /**
   * An ioredis client to use instead of `url`: a `Redis` or a `Cluster` (taskmill duplicates
   * it, never quits it).
   */
  readonly connection?: object;
  /** Key prefix; all keys share the hash tag `{prefix}`. @default "taskmill" */
  readonly prefix?: string;
  /**
   * The key layout. `"single"`: every key under the one hash tag `{prefix}` (one Redis Cluster
   * slot). `"sharded"`: a hash tag per queue, or per partition of a queue with
   * `queues: { <name>: { partitions } }`, so a Cluster spreads the work; see
   * docs/durable-mode.md "Sharded layout". Every process on a prefix must use the same one: data
   * of the other layout is refused at connect with `IncompatibleStoreError`.
   * @default "single"
   */
  readonly layout?: "single" | "sharded";
  /** Lease of a running task; renewed while its handler runs. @default 10_000 */
  readonly leaseMs?: number;
  /** Deliveries without an outcome before a task is dead-lettered as poison. @default 5 */
  readonly maxDeliveries?: number;
  /** One token bucket shared by all processes, applied when claiming (replaces `rate`). */
  readonly globalRate?: RateOptions;
  /** Dead-letter bound. @default { ttlMs: 7 days, maxEntries: 10_000 } */
  readonly deadLetters?: RetentionOptions;
  /**
   * Longest a call to the store (`submit`, `submitMany`, `get`, `list`, `cancel`, `queues`, the
   * DLQ) waits for an answer, whether the store is down, restarting or frozen, before it
   * rejects with `BackendUnavailableError`. A submit that timed out may still have been
   * stored: submit again with the same `idempotencyKey` to be safe. @default 5_000
   */
  readonly callTimeoutMs?: number;
  /**
   * Most calls (submits, reads) that may wait at once for a store that is not answering (not
   * connected yet, reconnecting, or frozen); past it a call rejects at once with
   * `BackendUnavailableError` instead of joining the queue, so an outage cannot pile up memory.
   * A store that answers is never limited by it. @default 10_000
   */
  readonly maxPendingCalls?: number;
}

/** The resolved durable backend settings (validated further by the Redis store). */
export interface ResolvedRedisBackend {
  readonly type: "redis";
  readonly url: string | readonly string[] | undefined;
  readonly connection: object | undefined;
  readonly prefix: string | undefined;
  readonly layout: "single" | "sharded";
  readonly leaseMs: number | undefined;
  readonly maxDeliveries: number | undefined;
  readonly globalRate: RateOptions | undefined;
  readonly deadLetters: RetentionOptions | undefined;
  readonly callTimeoutMs: number;
  readonly maxPendingCalls: number;
}

/** Every backend option. */
export type BackendOptions =
  | MemoryBackendOptions
  | RedisBackendOptions
  | PostgresBackendOptions
  | SqliteBackendOptions;

/** A durable backend, resolved. */
export type ResolvedDurableBackend =
  | ResolvedRedisBackend
  | ResolvedPostgresBackend
  | ResolvedSqliteBackend;

/** Any backend, resolved. */
export type ResolvedBackend = { readonly type: "memory" } | ResolvedDurableBackend;

const MEMORY_BACKEND_KEYS: ReadonlySet<string> = new Set(["type"] satisfies Array<
  keyof MemoryBackendOptions
>);
const REDIS_BACKEND_KEYS: ReadonlySet<string> = new Set([
  "type",
  "url",
  "connection",
  "prefix",
  "layout",
  "leaseMs",
  "maxDeliveries",
  "globalRate",
  "deadLetters",
  "callTimeoutMs",
  "maxPendingCalls",
] satisfies Array<keyof RedisBackendOptions>);

const BACKEND_SHAPES =
  '{ type: "memory" }, { type: "redis", url }, { type: "postgres", url } or { type: "sqlite", path }';
const BACKEND_TYPES = '"memory", "redis", "postgres" or "sqlite"';

/**
 * Checks `backend`'s shape and keys; fills in the shared durable defaults.
 * @throws InvalidOptionError naming the bad option.
 */
export function resolveBackend(backend: BackendOptions | undefined): ResolvedBackend {
  if (backend === undefined) return { type: "memory" };
  if (typeof backend !== "object" || backend === null)
    throw new InvalidOptionError("backend", `must be ${BACKEND_SHAPES}`, backend);
  switch (backend.type) {
    case "memory":
      requireKnownKeys("backend", backend, MEMORY_BACKEND_KEYS, InvalidOptionError);
      return { type: "memory" };
    case "redis":
      requireKnownKeys("backend", backend, REDIS_BACKEND_KEYS, InvalidOptionError);
      return resolveRedisBackend(backend);
    case "postgres":
      requireKnownKeys("backend", backend, POSTGRES_BACKEND_KEYS, InvalidOptionError);
      return resolvePostgresBackend(backend, {
        callTimeoutMs: DURABLE_DEFAULTS.callTimeoutMs,
        maxPendingCalls: resolveMaxPendingCalls(backend.maxPendingCalls),
      });
    case "sqlite":
      requireKnownKeys("backend", backend, SQLITE_BACKEND_KEYS, InvalidOptionError);
      return resolveSqliteBackend(backend, {
        callTimeoutMs: DURABLE_DEFAULTS.callTimeoutMs,
        maxPendingCalls: resolveMaxPendingCalls(backend.maxPendingCalls),
      });
    default:
      throw new InvalidOptionError(
        "backend.type",
        `must be ${BACKEND_TYPES}`,
        (backend as { type?: unknown }).type,
      );
  }
}

function resolveRedisBackend(backend: RedisBackendOptions): ResolvedRedisBackend {
  const { url, connection } = backend;
  if (url === undefined && connection === undefined)
    throw new InvalidOptionError("backend.url", "must be given (or backend.connection)", url);
  if (Array.isArray(url)) {
    if (url.length === 0)
      throw new InvalidOptionError(
        "backend.url",
        "must list at least one Redis Cluster node URL",
        url,
      );
    for (const [i, node] of url.entries())
      if (typeof node !== "string" || !/^rediss?:\/\//.test(node))
        throw new InvalidOptionError(
          `backend.url[${i}]`,
          'must be a "redis://" or "rediss://" URL',
          node,
        );
  } else if (url !== undefined && (typeof url !== "string" || !/^rediss?:\/\//.test(url)))
    throw new InvalidOptionError(
      "backend.url",
      'must be a "redis://" or "rediss://" URL (or a list of them for a Redis Cluster)',
      url,
    );
  if (connection !== undefined && (typeof connection !== "object" || connection === null))
    throw new InvalidOptionError("backend.connection", "must be an ioredis client", connection);
  const layout = backend.layout ?? "single";
  if (layout !== "single" && layout !== "sharded")
    throw new InvalidOptionError("backend.layout", 'must be "single" or "sharded"', layout);
  return {
    type: "redis",
    url,
    connection,
    prefix: backend.prefix,
    layout,
    leaseMs: backend.leaseMs,
    maxDeliveries: backend.maxDeliveries,
    globalRate: backend.globalRate,
    deadLetters: backend.deadLetters,
    callTimeoutMs: resolveCallTimeout(backend.callTimeoutMs),
    maxPendingCalls: resolveMaxPendingCalls(backend.maxPendingCalls),
  };
}

/** `backend.callTimeoutMs`: an integer >= 1, the shared default when absent. */
export function resolveCallTimeout(callTimeoutMs: number | undefined): number {
  if (callTimeoutMs === undefined) return DURABLE_DEFAULTS.callTimeoutMs;
  requireInteger("backend.callTimeoutMs", callTimeoutMs, 1, InvalidOptionError);
  return callTimeoutMs;
}

/** `backend.maxPendingCalls`: an integer >= 1, the shared default when absent. */
export function resolveMaxPendingCalls(maxPendingCalls: number | undefined): number {
  if (maxPendingCalls === undefined) return DURABLE_DEFAULTS.maxPendingCalls;
  requireInteger("backend.maxPendingCalls", maxPendingCalls, 1, InvalidOptionError);
  return maxPendingCalls;
}
