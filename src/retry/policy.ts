import { PermanentError } from "../errors.js";
import type { TaskRecord } from "../lifecycle/task-record.js";
import { backoffDelay, type RetryPolicy } from "./backoff.js";

/** What to do after a failed attempt. */
export type RetryDecision =
  | { readonly retry: false }
  | { readonly retry: true; readonly delayMs: number };

/** True for errors a handler marked as not worth retrying. */
export function isPermanent(error: Error): boolean {
  // The code check also recognises PermanentErrors from another copy of the package.
  return error instanceof PermanentError || (error as { code?: unknown }).code === "ERR_PERMANENT";
}

/**
 * Decides whether the attempt that just failed (`record.attempts` is its number) is retried,
 * and after how long.
 */
export function decideRetry(record: TaskRecord, error: Error, random: () => number): RetryDecision {
  if (isPermanent(error) || record.attempts > record.retry.maxRetries) return { retry: false };
  return { retry: true, delayMs: backoffDelay(record.retry, record.attempts, random) };
}

/** True when the attempt now running is the task's last allowed one. */
export function isLastAttempt(record: TaskRecord): boolean {
  return record.attempts > record.retry.maxRetries;
}

/** `policy` with a task's own `maxRetries`, when it set one. */
export function withMaxRetries(policy: RetryPolicy, maxRetries: number | undefined): RetryPolicy {
  return maxRetries === undefined ? policy : { ...policy, maxRetries };
}
