/**
 * Options of the Redis store: types, defaults and validation in one place. The rest of the
 * backend only sees {@link ResolvedStoreOptions}.
 */
import { InvalidOptionError } from "../../errors.js";
import type { RateOptions, RetentionOptions } from "../../options.js";
import { DEFAULT_PREFIX } from "./keys.js";

/** Options of `new RedisStore(redis, options)`; the durable `backend` option maps onto them. */
export interface RedisStoreOptions {
  /** Key prefix; every key lives under the hash tag `{prefix}`. @default "taskmill" */
  readonly prefix?: string;
  /** Lease length for claims and renewals. @default 10_000 */
  readonly leaseMs?: number;
  /**
   * Deliveries without an outcome (ack, nack or fail) before a task is dead-lettered as
   * poison: a task whose worker keeps crashing or losing its lease. `0` means unlimited.
   * @default 5
   */
  readonly maxDeliveries?: number;
  /**
   * One token bucket shared by every process on this prefix, applied in the claim script.
   * All processes must pass the same values. Omit for unlimited.
   */
  readonly globalRate?: RateOptions;
  /** Finished records (succeeded, cancelled, expired). `Infinity` disables a bound. */
  readonly retention?: RetentionOptions;
  /** Dead letters. `Infinity` disables a bound. @default { ttlMs: 7 days, maxEntries: 10_000 } */
  readonly deadLetters?: RetentionOptions;
  /** Approximate length bound of the events stream. @default 10_000 */
  readonly eventsMaxLen?: number;
  /** Most delayed tasks promoted per claim. @default 1_000 */
  readonly promoteBatch?: number;
  /** Most expired leases handled per reclaim call. @default 500 */
  readonly reclaimBatch?: number;
  /** Most records evicted per set per script call. @default 200 */
  readonly trimBudget?: number;
}

/** A retention bound as script arguments: `ttlMs` 0 and `maxEntries` -1 mean "none". */
export interface ResolvedBound {
  readonly ttlMs: number;
  readonly maxEntries: number;
}

/** Every store option resolved and validated. */
export interface ResolvedStoreOptions {
  readonly prefix: string;
  readonly leaseMs: number;
  readonly maxDeliveries: number;
  readonly globalRate: { readonly perSecond: number; readonly burst: number } | undefined;
  readonly retention: ResolvedBound;
  readonly deadLetters: ResolvedBound;
  readonly eventsMaxLen: number;
  readonly promoteBatch: number;
  readonly reclaimBatch: number;
  readonly trimBudget: number;
}

export const STORE_DEFAULTS = {
  leaseMs: 10_000,
  maxDeliveries: 5,
  retention: { ttlMs: 3_600_000, maxEntries: 10_000 },
  deadLetters: { ttlMs: 7 * 24 * 3_600_000, maxEntries: 10_000 },
  eventsMaxLen: 10_000,
  promoteBatch: 1_000,
  reclaimBatch: 500,
  trimBudget: 200,
} as const;

/** Validates and fills in defaults; throws `InvalidOptionError` naming the bad option. */
export function resolveStoreOptions(options: RedisStoreOptions = {}): ResolvedStoreOptions {
  const leaseMs = options.leaseMs ?? STORE_DEFAULTS.leaseMs;
  requireInteger("leaseMs", leaseMs, 10);
  const maxDeliveries = options.maxDeliveries ?? STORE_DEFAULTS.maxDeliveries;
  requireInteger("maxDeliveries", maxDeliveries, 0);
  const eventsMaxLen = options.eventsMaxLen ?? STORE_DEFAULTS.eventsMaxLen;
  requireInteger("eventsMaxLen", eventsMaxLen, 1);
  const promoteBatch = options.promoteBatch ?? STORE_DEFAULTS.promoteBatch;
  requireInteger("promoteBatch", promoteBatch, 1);
  const reclaimBatch = options.reclaimBatch ?? STORE_DEFAULTS.reclaimBatch;
  requireInteger("reclaimBatch", reclaimBatch, 1);
  const trimBudget = options.trimBudget ?? STORE_DEFAULTS.trimBudget;
  requireInteger("trimBudget", trimBudget, 1);
  return {
    prefix: options.prefix ?? DEFAULT_PREFIX,
    leaseMs,
    maxDeliveries,
    globalRate: resolveRate(options.globalRate),
    retention: resolveBound("retention", options.retention, STORE_DEFAULTS.retention),
    deadLetters: resolveBound("deadLetters", options.deadLetters, STORE_DEFAULTS.deadLetters),
    eventsMaxLen,
    promoteBatch,
    reclaimBatch,
    trimBudget,
  };
}

/** Validates a per-call rate override the same way as the option. */
export function resolveRate(
  rate: RateOptions | undefined,
): { readonly perSecond: number; readonly burst: number } | undefined {
  if (rate === undefined) return undefined;
  if (typeof rate !== "object" || rate === null)
    throw new InvalidOptionError("backend.globalRate", "must be { perSecond, burst? }", rate);
  const { perSecond } = rate;
  if (typeof perSecond !== "number" || !Number.isFinite(perSecond) || perSecond <= 0)
    throw new InvalidOptionError("backend.globalRate.perSecond", "must be a number > 0", perSecond);
  // Deterministic, conservative default: one start at a time after idling.
  const burst = rate.burst ?? 1;
  requireInteger("globalRate.burst", burst, 1);
  return { perSecond, burst };
}

function resolveBound(
  name: string,
  bound: RetentionOptions | undefined,
  defaults: { readonly ttlMs: number; readonly maxEntries: number },
): ResolvedBound {
  const ttlMs = bound?.ttlMs ?? defaults.ttlMs;
  const maxEntries = bound?.maxEntries ?? defaults.maxEntries;
  if (ttlMs !== Number.POSITIVE_INFINITY) requireInteger(`${name}.ttlMs`, ttlMs, 1);
  if (maxEntries !== Number.POSITIVE_INFINITY) requireInteger(`${name}.maxEntries`, maxEntries, 0);
  return {
    ttlMs: ttlMs === Number.POSITIVE_INFINITY ? 0 : ttlMs,
    maxEntries: maxEntries === Number.POSITIVE_INFINITY ? -1 : maxEntries,
  };
}

function requireInteger(name: string, value: unknown, min: number): void {
  if (typeof value !== "number" || !Number.isSafeInteger(value) || value < min)
    throw new InvalidOptionError(`backend.${name}`, `must be an integer >= ${min}`, value);
}
