/**
 * Turning a submit (or a flow node) into a `TaskRecord`: the handler's defaults under the
 * submit's options, the retry override re-typed as an argument error, and the due and expiry
 * times resolved against the clock.
 */
import type { RegisteredHandler } from "../../engine/backend.js";
import { InvalidArgumentError, InvalidOptionError } from "../../errors.js";
import { TaskRecord } from "../../lifecycle/task-record.js";
import type { Registry } from "../../registry/registry.js";
import type { RetryOptions, RetryPolicy } from "../../retry/backoff.js";
import { resolveRetry } from "../../retry/retry-options.js";
import type { SubmitOptions } from "../../types.js";

/** A new record with the registry's next order and id, created `now`. */
export function newTaskRecord(
  registry: Registry,
  now: number,
  name: string,
  payload: unknown,
  options: SubmitOptions,
  handler: RegisteredHandler,
  waiting: boolean,
): TaskRecord {
  const order = registry.claimOrder();
  return new TaskRecord(
    registry.idFor(order),
    order,
    name,
    options.queue ?? handler.queue,
    payload,
    options.priority ?? 0,
    handler.handler,
    options.retry === undefined ? handler.retry : submitRetry(options.retry, handler.retry),
    options.timeoutMs ?? handler.timeoutMs,
    now,
    resolveRunAt(options, now),
    resolveExpiresAt(options, now),
    options.idempotencyKey,
    waiting,
  );
}

/**
 * A per-task retry override is an argument of `submit`/`run`, not a constructor option: callers
 * branch on `ERR_INVALID_ARGUMENT` for every bad submit field, so the error is re-typed.
 */
export function submitRetry(
  partial: RetryOptions,
  base: RetryPolicy,
  argument = "retry",
): RetryPolicy {
  try {
    return resolveRetry(partial, base, argument);
  } catch (error) {
    if (!(error instanceof InvalidOptionError)) throw error;
    throw new InvalidArgumentError(error.option, error.requirement, error.value);
  }
}

function resolveRunAt(options: SubmitOptions, now: number): number | undefined {
  if (options.runAt !== undefined) {
    // A runAt already passed is due now: the task is queued, not scheduled (its events say so).
    const at = Number(options.runAt);
    return at > now ? at : undefined;
  }
  if (options.delayMs !== undefined && options.delayMs > 0) return now + options.delayMs;
  return undefined;
}

function resolveExpiresAt(options: SubmitOptions, now: number): number | undefined {
  if (options.expiresAt !== undefined) return Number(options.expiresAt);
  if (options.ttlMs !== undefined) return now + options.ttlMs;
  return undefined;
}
