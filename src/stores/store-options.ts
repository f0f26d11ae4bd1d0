/**
 * The options every durable store keeps, with one set of defaults and one validation: lease,
 * deliveries, the global rate, retention, the dead-letter bound and the batch sizes of its
 * maintenance steps. Each store adds its own (Redis its prefix, SQLite its file, Postgres its
 * schema) beside it; the same option means the same thing in every store.
 */
import { InvalidOptionError } from "../errors.js";
import {
  DEFAULTS,
  defaultBurst,
  type RateOptions,
  type ResolvedOptions,
  type RetentionOptions,
  resolveRate as resolveRateOption,
} from "../options.js";
import type { TokenBucketConfig } from "../scheduling/token-bucket.js";
import { requireInteger, requireKnownKeys } from "../validation.js";
import { DEFAULT_LEASE_MS } from "./durable-store.js";

/** The options every store takes; the durable `backend` option maps onto them. */
export interface StoreOptions {
  /** Lease length for claims and renewals. @default 10_000 */
  readonly leaseMs?: number;
  /**
   * Deliveries without an outcome (ack, nack or fail) before a task is dead-lettered as
   * poison: a task whose worker keeps crashing or losing its lease. `0` means unlimited.
   * @default 5
   */
  readonly maxDeliveries?: number;
  /**
   * One token bucket shared by every process on the store, applied in the claim. All processes
   * must pass the same values. Omit for unlimited.
   */
  readonly globalRate?: RateOptions;
  /** Finished records (succeeded, cancelled, expired). `Infinity` disables a bound. */
  readonly retention?: RetentionOptions;
  /** Dead letters. `Infinity` disables a bound. @default { ttlMs: 7 days, maxEntries: 10_000 } */
  readonly deadLetters?: RetentionOptions;
  /** Most events kept in the feed. @default 10_000 */
  readonly eventsMaxLen?: number;
  /** Most delayed tasks promoted per claim. @default 1_000 */
  readonly promoteBatch?: number;
  /** Most expired leases handled per reclaim step. @default 500 */
  readonly reclaimBatch?: number;
  /** Most records evicted per set per step. @default 200 */
  readonly trimBudget?: number;
}

/** A retention bound as the stores take it: `ttlMs` 0 and `maxEntries` -1 mean "none". */
export interface ResolvedBound {
  readonly ttlMs: number;
  readonly maxEntries: number;
}

/** {@link StoreOptions} resolved and validated. */
export interface ResolvedStoreOptionsBase {
  readonly leaseMs: number;
  readonly maxDeliveries: number;
  readonly globalRate: TokenBucketConfig | undefined;
  readonly retention: ResolvedBound;
  readonly deadLetters: ResolvedBound;
  readonly eventsMaxLen: number;
  readonly promoteBatch: number;
  readonly reclaimBatch: number;
  readonly trimBudget: number;
}

export const STORE_DEFAULTS = {
  leaseMs: DEFAULT_LEASE_MS,
  maxDeliveries: 5,
  retention: DEFAULTS.retention,
  deadLetters: { ttlMs: 7 * 24 * 3_600_000, maxEntries: 10_000 },
  eventsMaxLen: 10_000,
  promoteBatch: 1_000,
  reclaimBatch: 500,
  trimBudget: 200,
} as const;

/** Validates and fills in defaults; throws `InvalidOptionError` naming the bad option. */
export function resolveStoreOptionsBase(options: StoreOptions): ResolvedStoreOptionsBase {
  const int = (name: keyof typeof STORE_DEFAULTS & keyof StoreOptions, min: number): number => {
    const value = (options[name] as number | undefined) ?? (STORE_DEFAULTS[name] as number);
    requireInteger(`backend.${name}`, value, min, InvalidOptionError);
    return value;
  };
  return {
    leaseMs: int("leaseMs", 10),
    maxDeliveries: int("maxDeliveries", 0),
    globalRate: resolveGlobalRate(options.globalRate),
    retention: resolveBound("retention", options.retention, STORE_DEFAULTS.retention),
    deadLetters: resolveBound("deadLetters", options.deadLetters, STORE_DEFAULTS.deadLetters),
    eventsMaxLen: int("eventsMaxLen", 1),
    promoteBatch: int("promoteBatch", 1),
    reclaimBatch: int("reclaimBatch", 1),
    trimBudget: int("trimBudget", 1),
  };
}

/**
 * Validates `globalRate` (the option, or a per-call override) by the manager's `rate` rules.
 * An absent `burst` is 1 (the default burst of concurrency 1): deterministic and conservative,
 * one start at a time after idling. The durable manager passes its own default burst.
 */
export function resolveGlobalRate(rate: RateOptions | undefined): TokenBucketConfig | undefined {
  return resolveRateOption("backend.globalRate", rate, 1);
}

const BOUND_KEYS: ReadonlySet<string> = new Set(["ttlMs", "maxEntries"]);

function resolveBound(
  name: string,
  bound: RetentionOptions | undefined,
  defaults: { readonly ttlMs: number; readonly maxEntries: number },
): ResolvedBound {
  if (bound !== undefined) {
    if (typeof bound !== "object" || bound === null)
      throw new InvalidOptionError(
        `backend.${name}`,
        "must be an object { ttlMs?, maxEntries? }",
        bound,
      );
    requireKnownKeys(`backend.${name}`, bound, BOUND_KEYS, InvalidOptionError);
  }
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

/** What every durable `backend` option holds of the store's options. */
interface BackendStoreFields {
  readonly leaseMs: number | undefined;
  readonly maxDeliveries: number | undefined;
  readonly globalRate: RateOptions | undefined;
  readonly deadLetters: RetentionOptions | undefined;
}

/**
 * The store's options from the manager's: `backend` plus the manager's retention. A global
 * rate without `burst` gets the manager's default burst (its concurrency and the rate).
 */
export function storeOptionsOf(
  backend: BackendStoreFields,
  options: ResolvedOptions,
): StoreOptions {
  const rate = backend.globalRate;
  return {
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
