/**
 * The task lifecycle. This file draws the states; `transitions.ts` is the only code that
 * changes a task's status.
 *
 * ```text
 *   submit ──► scheduled ──(due)──► queued ──(start)──► running ──► succeeded
 *                 │                   │                  │   │
 *                 │                   │                  │   └──► failed ──(DLQ replay)──► queued
 *                 │                   │                  ▼
 *                 │                   │              retrying ──(backoff due, start)──► running
 *                 ▼                   ▼                  │
 *        cancelled / expired   cancelled / expired   cancelled
 * ```
 *
 * A flow's node with dependencies starts in `waiting` and leaves it once every dependency has
 * ended: to `queued` (or `scheduled`, if its own delay has not passed), or `cancelled` when a
 * dependency did not succeed and the node's `onDependencyFailure` is "cancel" (or on cancel()).
 *
 * `running` may also end `cancelled` (cancel() or stopNow()). `expired` only happens before a
 * task's first start. Terminal states never change, except the operator's DLQ replay, which
 * re-opens a `failed` task under the same id.
 */

/** Every status a task can have. */
export const TaskStatus = {
  waiting: "waiting",
  scheduled: "scheduled",
  queued: "queued",
  running: "running",
  retrying: "retrying",
  succeeded: "succeeded",
  failed: "failed",
  cancelled: "cancelled",
  expired: "expired",
} as const;

/** Where a task is in its lifecycle. */
export type TaskStatus = (typeof TaskStatus)[keyof typeof TaskStatus];

/** Every status, in lifecycle order. */
export const TASK_STATUSES = Object.values(TaskStatus) as [TaskStatus, ...TaskStatus[]];

/** The statuses a task never leaves (DLQ replay aside): the ones a result can have. */
export const TERMINAL_STATUSES = ["succeeded", "failed", "cancelled", "expired"] as const;

/** A status a task never leaves (DLQ replay aside). */
export type TerminalStatus = (typeof TERMINAL_STATUSES)[number];

/**
 * The allowed moves, for every store (the Redis scripts are checked against it by a test).
 * Anything absent is refused. `queued`/`retrying` → `failed` is a durable store's poison rule:
 * a task already delivered `maxDeliveries` times without an outcome goes to the dead-letter
 * queue at its next claim instead of running again.
 */
export const ALLOWED_TRANSITIONS: Readonly<Record<TaskStatus, readonly TaskStatus[]>> = {
  waiting: ["queued", "scheduled", "cancelled", "expired"],
  scheduled: ["queued", "cancelled", "expired"],
  queued: ["running", "cancelled", "expired", "failed"],
  running: ["succeeded", "failed", "retrying", "cancelled"],
  retrying: ["running", "cancelled", "failed"],
  succeeded: [],
  failed: [],
  cancelled: [],
  expired: [],
};

export function isTerminal(status: TaskStatus): status is TerminalStatus {
  return (
    status === "succeeded" || status === "failed" || status === "cancelled" || status === "expired"
  );
}
