/**
 * Small option shapes shared by the manager's options and the stores' backend options. A leaf
 * module: the backend options (under `stores/`) and `options.ts` both import it, and neither
 * imports the other's way back.
 */

/** One token bucket that every task start draws from. */
export interface RateOptions {
  /** Tokens added per second (the sustained start rate). */
  readonly perSecond: number;
  /** Bucket capacity: the most starts at once after idling. @default min(concurrency, perSecond), at least 1 */
  readonly burst?: number;
}

/** How long finished task records are kept for `get`, `list` and idempotency. */
export interface RetentionOptions {
  /** Evict a finished record this long after it finished. @default 3_600_000 (1 hour) */
  readonly ttlMs?: number;
  /** Keep at most this many finished records; oldest go first. @default 10_000 */
  readonly maxEntries?: number;
}
