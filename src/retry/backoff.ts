/**
 * Retry delays as a pure function of the attempt number and an injected random source.
 */

/** Built-in backoff curves, or a function of the attempt that failed (1-based) to milliseconds. */
export type Backoff = "fixed" | "linear" | "exponential" | ((attempt: number) => number);

/**
 * How the delay is randomised: `none` keeps it exact; `full` picks uniformly in `[0, delay]`;
 * `equal` picks uniformly in `[delay / 2, delay]`.
 */
export type Jitter = "none" | "full" | "equal";

/**
 * Retry settings as given (option `retry`, a handler's or a task's own); any field left out
 * keeps the level above's value. Resolved into a `RetryPolicy` by `resolveRetry`.
 */
export interface RetryOptions {
  /** Retries after the first attempt; `0` disables retries. @default 3 */
  readonly maxRetries?: number;
  /** @default "exponential" */
  readonly backoff?: Backoff;
  /** @default 100 */
  readonly baseDelayMs?: number;
  /** Cap on any single delay. @default 30_000 */
  readonly maxDelayMs?: number;
  /** @default "full" */
  readonly jitter?: Jitter;
}

/** A fully resolved retry policy. */
export interface RetryPolicy {
  readonly maxRetries: number;
  readonly backoff: Backoff;
  readonly baseDelayMs: number;
  readonly maxDelayMs: number;
  readonly jitter: Jitter;
}

/**
 * Delay before the retry that follows failed attempt number `attempt` (1 = the first run).
 * The curve is capped by `maxDelayMs` before jitter, so jitter never exceeds the cap.
 */
export function backoffDelay(policy: RetryPolicy, attempt: number, random: () => number): number {
  const raw = curve(policy, attempt);
  const capped = Math.min(
    Math.max(0, Number.isFinite(raw) ? raw : policy.maxDelayMs),
    policy.maxDelayMs,
  );
  switch (policy.jitter) {
    case "none":
      return capped;
    case "full":
      return random() * capped;
    case "equal":
      return capped / 2 + (random() * capped) / 2;
  }
}

function curve(policy: RetryPolicy, attempt: number): number {
  const { backoff, baseDelayMs } = policy;
  if (typeof backoff === "function") return backoff(attempt);
  switch (backoff) {
    case "fixed":
      return baseDelayMs;
    case "linear":
      return baseDelayMs * attempt;
    case "exponential":
      // 2 ** 1024 is Infinity; the cap above keeps any attempt count safe.
      return baseDelayMs * 2 ** (attempt - 1);
  }
}
