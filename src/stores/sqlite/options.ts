/**
 * Options of the SQLite store: defaults and validation in one place. The rest of the store only
 * sees {@link ResolvedSqliteOptions}.
 */
import { InvalidOptionError } from "../../errors.js";
import {
  DEFAULTS,
  defaultBurst,
  type RateOptions,
  type ResolvedOptions,
  type RetentionOptions,
  resolveRate as resolveRateOption,
} from "../../options.js";
import type { TokenBucketConfig } from "../../scheduling/token-bucket.js";
import { requireInteger } from "../../validation.js";
import { DEFAULT_LEASE_MS } from "../durable-store.js";
import type { ResolvedSqliteBackend } from "./backend-options.js";

/** Options of `new SqliteStore(db, options)`; the durable `backend` option maps onto them. */
export interface SqliteStoreOptions {
  /** Shown in errors. */
  readonly path?: string;
  /** @default 10_000 */
  readonly leaseMs?: number;
  /** Deliveries without an outcome before a task is dead-lettered; 0 = unlimited. @default 5 */
  readonly maxDeliveries?: number;
  /** One token bucket shared by every process on the file, applied in the claim. */
  readonly globalRate?: RateOptions;
  /** Finished records (succeeded, cancelled, expired). `Infinity` disables a bound. */
  readonly retention?: RetentionOptions;
  /** Dead letters. @default { ttlMs: 7 days, maxEntries: 10_000 } */
  readonly deadLetters?: RetentionOptions;
  /** Most events kept in the feed. @default 10_000 */
  readonly eventsMaxLen?: number;
  /** Most delayed tasks promoted per claim. @default 1_000 */
  readonly promoteBatch?: number;
  /** Most expired leases handled per reclaim transaction. @default 500 */
  readonly reclaimBatch?: number;
  /** Most records evicted per set per transaction. @default 200 */
  readonly trimBudget?: number;
  /** How often a waiting process looks for other processes' writes (ms). @default 20 */
  readonly pollMs?: number;
}

/** A retention bound: `ttlMs` 0 and `maxEntries` -1 mean "none". */
export interface ResolvedBound {
  readonly ttlMs: number;
  readonly maxEntries: number;
}

/** Every store option resolved and validated. */
export interface ResolvedSqliteOptions {
  readonly path: string;
  readonly leaseMs: number;
  readonly maxDeliveries: number;
  readonly globalRate: TokenBucketConfig | undefined;
  readonly retention: ResolvedBound;
  readonly deadLetters: ResolvedBound;
  readonly eventsMaxLen: number;
  readonly promoteBatch: number;
  readonly reclaimBatch: number;
  readonly trimBudget: number;
  readonly pollMs: number;
}

const STORE_DEFAULTS = {
  leaseMs: DEFAULT_LEASE_MS,
  maxDeliveries: 5,
  deadLetters: { ttlMs: 7 * 24 * 3_600_000, maxEntries: 10_000 },
  eventsMaxLen: 10_000,
  promoteBatch: 1_000,
  reclaimBatch: 500,
  trimBudget: 200,
  pollMs: 20,
} as const;

/** Validates and fills in defaults; throws `InvalidOptionError` naming the bad option. */
export function resolveSqliteOptions(options: SqliteStoreOptions = {}): ResolvedSqliteOptions {
  const int = (name: keyof typeof STORE_DEFAULTS, min: number): number => {
    const value = (options[name] as number | undefined) ?? (STORE_DEFAULTS[name] as number);
    requireInteger(`backend.${name}`, value, min, InvalidOptionError);
    return value;
  };
  return {
    path: options.path ?? "(sqlite)",
    leaseMs: int("leaseMs", 10),
    maxDeliveries: int("maxDeliveries", 0),
    globalRate: resolveRateOption("backend.globalRate", options.globalRate, 1),
    retention: resolveBound("retention", options.retention, DEFAULTS.retention),
    deadLetters: resolveBound("deadLetters", options.deadLetters, STORE_DEFAULTS.deadLetters),
    eventsMaxLen: int("eventsMaxLen", 1),
    promoteBatch: int("promoteBatch", 1),
    reclaimBatch: int("reclaimBatch", 1),
    trimBudget: int("trimBudget", 1),
    pollMs: int("pollMs", 1),
  };
}

function resolveBound(
  name: string,
  bound: RetentionOptions | undefined,
  defaults: { readonly ttlMs: number; readonly maxEntries: number },
): ResolvedBound {
  const ttlMs = bound?.ttlMs ?? defaults.ttlMs;
  const maxEntries = bound?.maxEntries ?? defaults.maxEntries;
  if (ttlMs !== Number.POSITIVE_INFINITY)
    requireInteger(`backend.${name}.ttlMs`, ttlMs, 1, InvalidOptionError);
  if (maxEntries !== Number.POSITIVE_INFINITY)
    requireInteger(`backend.${name}.maxEntries`, maxEntries, 0, InvalidOptionError);
  return {
    ttlMs: ttlMs === Number.POSITIVE_INFINITY ? 0 : ttlMs,
    maxEntries: maxEntries === Number.POSITIVE_INFINITY ? -1 : maxEntries,
  };
}

/** The store's options from the manager's: `backend` plus the manager's retention. */
export function sqliteStoreOptions(
  backend: ResolvedSqliteBackend,
  options: ResolvedOptions,
): SqliteStoreOptions {
  const rate = backend.globalRate;
  return {
    path: backend.path,
    ...(backend.leaseMs === undefined ? {} : { leaseMs: backend.leaseMs }),
    ...(backend.maxDeliveries === undefined ? {} : { maxDeliveries: backend.maxDeliveries }),
    ...(rate === undefined
      ? {}
      : typeof rate !== "object" || rate === null
        ? { globalRate: rate }
        : {
            globalRate: {
              perSecond: rate.perSecond,
              burst: rate.burst ?? defaultBurst(options.concurrency, rate.perSecond),
            },
          }),
    retention: options.retention,
    ...(backend.deadLetters === undefined ? {} : { deadLetters: backend.deadLetters }),
  };
}

/** Checks the backend's limits at once, in the manager's constructor, before the file opens. */
export function checkSqliteBackend(backend: ResolvedSqliteBackend, options: ResolvedOptions): void {
  resolveSqliteOptions(sqliteStoreOptions(backend, options));
}
