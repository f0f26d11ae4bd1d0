/**
 * Resolving a retry option (the manager's `retry`, a handler's, or a submit's override) over
 * the policy it refines.
 */
import { InvalidOptionError } from "../errors.js";
import { requireInteger, requireKnownKeys, requireNonNegative } from "../validation.js";
import type { RetryOptions, RetryPolicy } from "./backoff.js";

const RETRY_KEYS: ReadonlySet<string> = new Set([
  "maxRetries",
  "backoff",
  "baseDelayMs",
  "maxDelayMs",
  "jitter",
] satisfies Array<keyof RetryOptions>);

const BACKOFFS = ["fixed", "linear", "exponential"];
const JITTERS = ["none", "full", "equal"];

/** Merges a partial retry policy over a resolved one, validating what it sets. */
export function resolveRetry(
  partial: RetryOptions | undefined,
  base: RetryPolicy,
  path: string,
): RetryPolicy {
  if (partial === undefined) return base;
  if (typeof partial !== "object" || partial === null)
    throw new InvalidOptionError(path, "must be an object", partial);
  requireKnownKeys(path, partial, RETRY_KEYS, InvalidOptionError);
  const policy: RetryPolicy = {
    maxRetries: partial.maxRetries ?? base.maxRetries,
    backoff: partial.backoff ?? base.backoff,
    baseDelayMs: partial.baseDelayMs ?? base.baseDelayMs,
    maxDelayMs: partial.maxDelayMs ?? base.maxDelayMs,
    jitter: partial.jitter ?? base.jitter,
  };
  requireInteger(`${path}.maxRetries`, policy.maxRetries, 0, InvalidOptionError);
  if (typeof policy.backoff !== "function" && !BACKOFFS.includes(policy.backoff))
    throw new InvalidOptionError(
      `${path}.backoff`,
      'must be "fixed", "linear", "exponential" or a function (attempt) => ms',
      policy.backoff,
    );
  requireNonNegative(`${path}.baseDelayMs`, policy.baseDelayMs, InvalidOptionError);
  requireNonNegative(`${path}.maxDelayMs`, policy.maxDelayMs, InvalidOptionError);
  if (!JITTERS.includes(policy.jitter))
    throw new InvalidOptionError(
      `${path}.jitter`,
      'must be "none", "full" or "equal"',
      policy.jitter,
    );
  return policy;
}
