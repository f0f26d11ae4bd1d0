/**
 * The `backend: { type: "sqlite", ... }` option: its public type and its first resolution
 * (shape and paths). `src/options.ts` dispatches here; the store's own limits are checked in
 * `options.ts` beside the store. This file imports nothing from `src/options.ts`, so the option
 * types of the manager and of the store do not form an import cycle.
 */
import { InvalidOptionError } from "../../errors.js";
import { requireInteger } from "../../validation.js";

/**
 * Durable mode on local disk: tasks live in one SQLite file (WAL mode, every commit fsynced
 * before a submit resolves), with leases, fenced acknowledgements and a dead-letter queue.
 * Several processes on the same machine may share the file. Needs the `better-sqlite3` package.
 */
export interface SqliteBackendOptions {
  readonly type: "sqlite";
  /** The database file, created if missing (with its `-wal` and `-shm` files beside it). */
  readonly path: string;
  /** Lease of a running task; renewed while its handler runs. @default 10_000 */
  readonly leaseMs?: number;
  /** Deliveries without an outcome before a task is dead-lettered as poison. @default 5 */
  readonly maxDeliveries?: number;
  /** One token bucket shared by all processes on the file, applied when claiming. */
  readonly globalRate?: { readonly perSecond: number; readonly burst?: number };
  /** Dead-letter bound. @default { ttlMs: 7 days, maxEntries: 10_000 } */
  readonly deadLetters?: { readonly ttlMs?: number; readonly maxEntries?: number };
  /**
   * Longest a call (`submit`, `get`, `list`, ...) waits for an answer before it rejects with
   * `BackendUnavailableError`. @default 5_000
   */
  readonly callTimeoutMs?: number;
  /**
   * Longest a write waits for another process's write lock on the file before it rejects with
   * `BackendUnavailableError` (nothing of it is written). The wait blocks this process's event
   * loop (SQLite's busy handler), so keep it short. @default 2_000
   */
  readonly busyTimeoutMs?: number;
  /**
   * Most calls that may wait at once for a store that is not answering; past it a call is
   * refused at once with `BackendUnavailableError`. @default 10_000
   */
  readonly maxPendingCalls?: number;
}

/** Every key of {@link SqliteBackendOptions}: any other is refused. */
export const SQLITE_BACKEND_KEYS: ReadonlySet<string> = new Set([
  "type",
  "path",
  "leaseMs",
  "maxDeliveries",
  "globalRate",
  "deadLetters",
  "callTimeoutMs",
  "busyTimeoutMs",
  "maxPendingCalls",
] satisfies Array<keyof SqliteBackendOptions>);

/** The sqlite backend after its first checks (the store checks its limits further). */
export interface ResolvedSqliteBackend {
  readonly type: "sqlite";
  readonly path: string;
  readonly leaseMs: number | undefined;
  readonly maxDeliveries: number | undefined;
  readonly globalRate: SqliteBackendOptions["globalRate"];
  readonly deadLetters: SqliteBackendOptions["deadLetters"];
  readonly callTimeoutMs: number;
  readonly busyTimeoutMs: number;
  readonly maxPendingCalls: number;
}

/**
 * Checks the option's shape; `callTimeoutMs` defaults to `common.callTimeoutMs`, and
 * `maxPendingCalls` is the manager's (resolved with the other stores').
 */
export function resolveSqliteBackend(
  backend: SqliteBackendOptions,
  common: { readonly callTimeoutMs: number; readonly maxPendingCalls: number },
): ResolvedSqliteBackend {
  const { path } = backend;
  if (typeof path !== "string" || path.trim().length === 0)
    throw new InvalidOptionError("backend.path", "must be the path of the database file", path);
  if (path === ":memory:" || path.startsWith("file:"))
    throw new InvalidOptionError(
      "backend.path",
      "must be a file on disk (an in-memory database is not durable; use the memory backend)",
      path,
    );
  const callTimeoutMs = backend.callTimeoutMs ?? common.callTimeoutMs;
  requireInteger("backend.callTimeoutMs", callTimeoutMs, 1, InvalidOptionError);
  const busyTimeoutMs = backend.busyTimeoutMs ?? 2_000;
  requireInteger("backend.busyTimeoutMs", busyTimeoutMs, 0, InvalidOptionError);
  return {
    type: "sqlite",
    path,
    leaseMs: backend.leaseMs,
    maxDeliveries: backend.maxDeliveries,
    globalRate: backend.globalRate,
    deadLetters: backend.deadLetters,
    callTimeoutMs,
    busyTimeoutMs,
    maxPendingCalls: common.maxPendingCalls,
  };
}
