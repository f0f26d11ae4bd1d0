/**
 * A token bucket as pure functions of `now`: capacity `burst`, refilled continuously at
 * `perSecond`. Every task start takes exactly one token, so in any window of length `t` at most
 * `burst + perSecond * t` tasks start, and the long-run rate is exactly `perSecond`.
 */

/** Bucket parameters; `perSecond` > 0, `burst` >= 1. */
export interface TokenBucketConfig {
  readonly perSecond: number;
  readonly burst: number;
}

/** Mutable bucket state. Starts full. */
export interface TokenBucketState {
  tokens: number;
  updatedAt: number;
}

export function createBucket(config: TokenBucketConfig, now: number): TokenBucketState {
  return { tokens: config.burst, updatedAt: now };
}

/** Adds the tokens earned since the last update, capped at `burst`. */
export function refill(state: TokenBucketState, config: TokenBucketConfig, now: number): void {
  if (now <= state.updatedAt) return;
  const earned = ((now - state.updatedAt) * config.perSecond) / 1000;
  state.tokens = Math.min(config.burst, state.tokens + earned);
  state.updatedAt = now;
}

/** Takes one token if a whole one is available. */
export function tryTake(state: TokenBucketState, config: TokenBucketConfig, now: number): boolean {
  refill(state, config, now);
  // A tiny epsilon absorbs floating-point dust so a token earned "exactly now" counts.
  if (state.tokens < 1 - 1e-9) return false;
  state.tokens -= 1;
  return true;
}

/** Milliseconds until one whole token is available (0 if one is available now). */
export function msUntilToken(
  state: TokenBucketState,
  config: TokenBucketConfig,
  now: number,
): number {
  refill(state, config, now);
  if (state.tokens >= 1 - 1e-9) return 0;
  return ((1 - state.tokens) * 1000) / config.perSecond;
}
