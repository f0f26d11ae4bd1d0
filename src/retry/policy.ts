import { PermanentError } from "../errors.js";
import { backoffDelay, type RetryPolicy } from "./backoff.js";

/** What to do after a failed attempt. */
export type RetryDecision =
  | { readonly retry: false }
  | { readonly retry: true; readonly delayMs: number };

/**
 * What the retry decision reads of a task: the attempts started so far and its policy. A task
 * record fits as it is.
 */
export interface RetryState {
  readonly attempts: number;
  readonly retry: RetryPolicy;
}

/** True for errors a handler marked as not worth retrying. */
export function isPermanent(error: Error): boolean {
  // The code check also recognises PermanentErrors from another copy of the package.
  return error instanceof PermanentError || (error as { code?: unknown }).code === "ERR_PERMANENT";
}

/**
 * Decides whether the attempt that just failed (`task.attempts` is its number) is retried,
 * and after how long.
 */
export function decideRetry(task: RetryState, error: Error, random: () => number): RetryDecision {
  if (isPermanent(error) || task.attempts > task.retry.maxRetries) return { retry: false };
  return { retry: true, delayMs: backoffDelay(task.retry, task.attempts, random) };
}

/** True when the attempt now running is the task's last allowed one. */
export function isLastAttempt(task: RetryState): boolean {
  return task.attempts > task.retry.maxRetries;
}

/** `policy` with a task's own `maxRetries`, when it set one. */
export function withMaxRetries(policy: RetryPolicy, maxRetries: number | undefined): RetryPolicy {
  return maxRetries === undefined ? policy : { ...policy, maxRetries };
}
