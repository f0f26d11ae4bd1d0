/**
 * The `backend: { type: "postgres" }` option as users write it, and its first resolution (the
 * shape; the numbers are checked with the store's own options in `options.ts`). Kept free of
 * imports from `src/options.ts`, which imports this file: no import cycle.
 */
import { InvalidOptionError } from "../../errors.js";
import { requireInteger } from "../../validation.js";

/** A pg `Pool` (or anything with its `query` and `connect`), as `backend.pool` takes it. */
export interface PostgresPoolLike {
  query(text: string, values?: unknown[]): Promise<unknown>;
  connect(): Promise<unknown>;
}

/**
 * Durable mode on PostgreSQL: tasks live in tables of one schema, with leases on the
 * database's clock, fenced completions, a dead-letter queue, transactional enqueue
 * (`submit(name, payload, { tx })`) and completion (`ctx.completeWithin(tx, value)`). Needs the
 * `pg` package (node-postgres 8).
 */
export interface PostgresBackendOptions {
  readonly type: "postgres";
  /** A connection string such as `postgres://app@db:5432/app`. Give this or `pool`. */
  readonly url?: string;
  /**
   * A `pg.Pool` to use instead of `url` (taskmill never ends it). Two of its clients stay
   * checked out while the manager runs: one listens for new work, one for results.
   */
  readonly pool?: PostgresPoolLike;
  /** The schema holding taskmill's tables, created and migrated at start. @default "taskmill" */
  readonly schema?: string;
  /** Lease of a running task; renewed while its handler runs. @default 10_000 */
  readonly leaseMs?: number;
  /** Deliveries without an outcome before a task is dead-lettered as poison. @default 5 */
  readonly maxDeliveries?: number;
  /** One token bucket shared by all processes, applied inside the claim. */
  readonly globalRate?: { readonly perSecond: number; readonly burst?: number };
  /** Dead-letter bound. @default { ttlMs: 7 days, maxEntries: 10_000 } */
  readonly deadLetters?: { readonly ttlMs?: number; readonly maxEntries?: number };
  /** Longest a call to the store waits for an answer before `BackendUnavailableError`. @default 5_000 */
  readonly callTimeoutMs?: number;
  /**
   * Run the schema migrations at start (under an advisory lock). `false` for applications
   * whose database user may not run DDL: run `taskmill migrate` as the owner instead; the
   * manager then checks the schema is current. @default true
   */
  readonly migrate?: boolean;
  /** Connections of the pool taskmill creates from `url`. @default 10 */
  readonly poolSize?: number;
  /**
   * Most calls that may wait at once for a store that is not answering; past it a call is
   * refused at once with `BackendUnavailableError`. @default 10_000
   */
  readonly maxPendingCalls?: number;
}

/** Every key of {@link PostgresBackendOptions}: any other is refused. */
export const POSTGRES_BACKEND_KEYS: ReadonlySet<string> = new Set([
  "type",
  "url",
  "pool",
  "schema",
  "leaseMs",
  "maxDeliveries",
  "globalRate",
  "deadLetters",
  "callTimeoutMs",
  "migrate",
  "poolSize",
  "maxPendingCalls",
] satisfies Array<keyof PostgresBackendOptions>);

/** The Postgres backend options, shape-checked. */
export interface ResolvedPostgresBackend {
  readonly type: "postgres";
  readonly url: string | undefined;
  readonly pool: PostgresPoolLike | undefined;
  readonly schema: string;
  readonly leaseMs: number | undefined;
  readonly maxDeliveries: number | undefined;
  readonly globalRate: { readonly perSecond: number; readonly burst?: number } | undefined;
  readonly deadLetters: { readonly ttlMs?: number; readonly maxEntries?: number } | undefined;
  readonly callTimeoutMs: number;
  readonly migrate: boolean;
  readonly poolSize: number;
  readonly maxPendingCalls: number;
}

/** Lower-case identifier, short enough for the LISTEN channels built from it. */
const SCHEMA = /^[a-z_][a-z0-9_]{0,39}$/;

/**
 * Checks the shape of `backend: { type: "postgres", ... }`; throws `InvalidOptionError`.
 * `callTimeoutMs` defaults to `common.callTimeoutMs`; `maxPendingCalls` is resolved with the
 * other stores'.
 */
export function resolvePostgresBackend(
  backend: PostgresBackendOptions,
  common: { readonly callTimeoutMs: number; readonly maxPendingCalls: number },
): ResolvedPostgresBackend {
  const { url, pool } = backend;
  if (url === undefined && pool === undefined)
    throw new InvalidOptionError("backend.url", "must be given (or backend.pool)", url);
  if (url !== undefined && (typeof url !== "string" || !/^postgres(ql)?:\/\//.test(url)))
    throw new InvalidOptionError(
      "backend.url",
      'must be a "postgres://" or "postgresql://" URL',
      url,
    );
  if (
    pool !== undefined &&
    (typeof pool !== "object" ||
      pool === null ||
      typeof pool.query !== "function" ||
      typeof pool.connect !== "function")
  )
    throw new InvalidOptionError("backend.pool", "must be a pg Pool", pool);
  const schema = backend.schema ?? "taskmill";
  if (typeof schema !== "string" || !SCHEMA.test(schema))
    throw new InvalidOptionError(
      "backend.schema",
      "must be a lower-case SQL identifier of at most 40 characters (letters, digits, _)",
      schema,
    );
  const callTimeoutMs = backend.callTimeoutMs ?? common.callTimeoutMs;
  requireInteger("backend.callTimeoutMs", callTimeoutMs, 1, InvalidOptionError);
  const poolSize = backend.poolSize ?? 10;
  requireInteger("backend.poolSize", poolSize, 1, InvalidOptionError);
  if (backend.migrate !== undefined && typeof backend.migrate !== "boolean")
    throw new InvalidOptionError("backend.migrate", "must be a boolean", backend.migrate);
  return {
    type: "postgres",
    url,
    pool,
    schema,
    leaseMs: backend.leaseMs,
    maxDeliveries: backend.maxDeliveries,
    globalRate: backend.globalRate,
    deadLetters: backend.deadLetters,
    callTimeoutMs,
    migrate: backend.migrate ?? true,
    poolSize,
    maxPendingCalls: common.maxPendingCalls,
  };
}
