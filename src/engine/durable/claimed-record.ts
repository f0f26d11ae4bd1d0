/**
 * A claimed task as this worker's local record: the handler registered here, its retry policy
 * with the task's own overrides, the attempt number and times the store gave it, and the
 * submitter's trace context.
 */
import { InvalidArgumentError } from "../../errors.js";
import { TaskRecord } from "../../lifecycle/task-record.js";
import { transition } from "../../lifecycle/transitions.js";
import { extractTraceContext } from "../../observability/tracing.js";
import { DEFAULTS } from "../../options.js";
import type { RetryPolicy } from "../../retry/backoff.js";
import { withMaxRetries } from "../../retry/policy.js";
import type { ClaimedTask } from "../../stores/durable-types.js";
import type { TaskHandler } from "../../types.js";
import type { RegisteredHandler } from "../backend.js";

/** The running record of a claimed task (status `running`, attempt counted by the store). */
export function recordOfClaim(
  task: ClaimedTask,
  registered: RegisteredHandler | undefined,
): TaskRecord {
  const record = new TaskRecord(
    task.id,
    -1,
    task.name,
    task.queue,
    task.payload,
    task.priority,
    registered?.handler ?? missingHandler,
    taskRetry(task, registered),
    task.timeoutMs ?? registered?.timeoutMs ?? 0,
    task.createdAt,
    undefined,
    task.expiresAt,
    task.idempotencyKey,
  );
  transition(record, "running", task.startedAt);
  if (task.dependencies !== undefined) record.dependencies = task.dependencies;
  record.attempts = task.attempts;
  record.startedAt = task.startedAt;
  // Queue wait runs from when the task became due (its retry or delay time, else creation).
  record.dueAt = task.runAt ?? task.createdAt;
  // The submitter's trace context travelled in the task: this attempt's span joins its trace.
  if (isCarrier(task.meta)) record.traceContext = extractTraceContext(task.meta);
  return record;
}

function isCarrier(meta: unknown): meta is Record<string, string> {
  return (
    typeof meta === "object" &&
    meta !== null &&
    !Array.isArray(meta) &&
    typeof (meta as Record<string, unknown>).traceparent === "string"
  );
}

/** A claimed task whose name has no handler here fails at once, loudly. */
const missingHandler: TaskHandler = (_payload, ctx) => {
  throw new InvalidArgumentError(
    "name",
    "has no handler registered in the worker that claimed it",
    ctx.name,
  );
};

/** The retry policy of a claimed task: the handler's, with the task's own overrides. */
function taskRetry(task: ClaimedTask, registered: RegisteredHandler | undefined): RetryPolicy {
  // Without a handler here the task fails (missingHandler); no retries unless it says so.
  const base = registered?.retry ?? { ...DEFAULTS.retry, maxRetries: 0 };
  const override = task.retry;
  const merged: RetryPolicy =
    override !== null && typeof override === "object" && !Array.isArray(override)
      ? { ...base, ...(override as Partial<RetryPolicy>) }
      : base;
  return withMaxRetries(merged, task.maxRetries);
}
