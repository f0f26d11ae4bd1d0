/**
 * The only code that changes a task's status. Every move is checked against
 * `ALLOWED_TRANSITIONS`, so a terminal state can never change and a task can never start twice.
 */
import { ALLOWED_TRANSITIONS, isTerminal, type TaskStatus } from "./states.js";
import type { TaskRecord } from "./task-record.js";

const allowed = new Map<TaskStatus, ReadonlySet<TaskStatus>>(
  Object.entries(ALLOWED_TRANSITIONS).map(([from, to]) => [from as TaskStatus, new Set(to)]),
);

/**
 * Moves `record` to `to` if the lifecycle allows it; returns false (and changes nothing)
 * otherwise. Callers act on a transition only when it returned true.
 */
export function transition(record: TaskRecord, to: TaskStatus, now: number): boolean {
  if (!allowed.get(record.status)?.has(to)) return false;
  record.status = to;
  if (isTerminal(to)) {
    record.finishedAt = now;
    record.runAt = undefined;
  }
  return true;
}

/** The operator's DLQ replay: the one way out of a terminal state (`failed` back to `queued`). */
export function reopenFailed(record: TaskRecord): boolean {
  if (record.status !== "failed") return false;
  record.status = "queued";
  record.finishedAt = undefined;
  record.error = undefined;
  return true;
}
