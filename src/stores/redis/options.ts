/**
 * Options of the Redis store: types, defaults and validation in one place. The rest of the
 * backend only sees {@link ResolvedStoreOptions}.
 */

import { InvalidOptionError } from "../../errors.js";
import {
  DEFAULTS,
  defaultBurst,
  type RateOptions,
  type ResolvedOptions,
  type ResolvedRedisBackend,
  type RetentionOptions,
  resolveRate as resolveRateOption,
} from "../../options.js";
import type { TokenBucketConfig } from "../../scheduling/token-bucket.js";
import { requireInteger, requireKnownKeys } from "../../validation.js";
import { DEFAULT_LEASE_MS } from "../durable-store.js";
import { DEFAULT_PREFIX, KeySpace } from "./keys.js";

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
export function resolveStoreOptions(options: RedisStoreOptions = {}): ResolvedStoreOptions {
  const leaseMs = options.leaseMs ?? STORE_DEFAULTS.leaseMs;
  requireInteger("backend.leaseMs", leaseMs, 10, InvalidOptionError);
  const maxDeliveries = options.maxDeliveries ?? STORE_DEFAULTS.maxDeliveries;
  requireInteger("backend.maxDeliveries", maxDeliveries, 0, InvalidOptionError);
  const eventsMaxLen = options.eventsMaxLen ?? STORE_DEFAULTS.eventsMaxLen;
  requireInteger("backend.eventsMaxLen", eventsMaxLen, 1, InvalidOptionError);
  const promoteBatch = options.promoteBatch ?? STORE_DEFAULTS.promoteBatch;
  requireInteger("backend.promoteBatch", promoteBatch, 1, InvalidOptionError);
  const reclaimBatch = options.reclaimBatch ?? STORE_DEFAULTS.reclaimBatch;
  requireInteger("backend.reclaimBatch", reclaimBatch, 1, InvalidOptionError);
  const trimBudget = options.trimBudget ?? STORE_DEFAULTS.trimBudget;
  requireInteger("backend.trimBudget", trimBudget, 1, InvalidOptionError);
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

/**
 * Validates `globalRate` (the option, or a per-call override) by the manager's `rate` rules.
 * An absent `burst` is 1 (the default burst of concurrency 1): deterministic and conservative,
 * one start at a time after idling. The durable manager passes its own default burst.
 */
export function resolveRate(rate: RateOptions | undefined): TokenBucketConfig | undefined {
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

/** The store's options from the manager's: `backend` plus the manager's retention. */
export function redisStoreOptions(
  backend: ResolvedRedisBackend,
  options: ResolvedOptions,
): RedisStoreOptions {
  return {
    ...(backend.prefix === undefined ? {} : { prefix: backend.prefix }),
    ...(backend.leaseMs === undefined ? {} : { leaseMs: backend.leaseMs }),
    ...(backend.maxDeliveries === undefined ? {} : { maxDeliveries: backend.maxDeliveries }),
    ...(backend.globalRate === undefined
      ? {}
      : typeof backend.globalRate !== "object" || backend.globalRate === null
        ? { globalRate: backend.globalRate }
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
  };
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
