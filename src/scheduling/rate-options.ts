/**
 * Resolving a start-rate option into a token bucket: the manager's `rate`, or the Redis
 * store's `backend.globalRate`.
 */
import { InvalidOptionError } from "../errors.js";
import type { RateOptions } from "../option-types.js";
import { requireInteger, requireKnownKeys, requirePositive } from "../validation.js";
import type { TokenBucketConfig } from "./token-bucket.js";

const RATE_KEYS: ReadonlySet<string> = new Set(["perSecond", "burst"] satisfies Array<
  keyof RateOptions
>);

/** The deterministic default burst: what can run at once, capped by the rate, at least 1. */
export function defaultBurst(concurrency: number, perSecond: number): number {
  return Math.max(1, Math.floor(Math.min(concurrency, perSecond)));
}

/**
 * Validates a token-bucket option at `path`: the manager's `rate`, or the Redis store's
 * `backend.globalRate`. An absent `burst` is {@link defaultBurst} of `concurrency` and the rate.
 */
export function resolveRate(
  path: string,
  rate: RateOptions | undefined,
  concurrency: number,
): TokenBucketConfig | undefined {
  if (rate === undefined) return undefined;
  if (typeof rate !== "object" || rate === null)
    throw new InvalidOptionError(path, "must be an object { perSecond, burst? }", rate);
  requireKnownKeys(path, rate, RATE_KEYS, InvalidOptionError);
  requirePositive(`${path}.perSecond`, rate.perSecond, InvalidOptionError);
  const burst = rate.burst ?? defaultBurst(concurrency, rate.perSecond);
  requireInteger(`${path}.burst`, burst, 1, InvalidOptionError);
  return { perSecond: rate.perSecond, burst };
}
