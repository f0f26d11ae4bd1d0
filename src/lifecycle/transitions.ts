/**
 * The only code that changes a task's status. Every move is checked against
 * `ALLOWED_TRANSITIONS`, so a terminal state can never change and a task can never start twice.
 */
import { ALLOWED_TRANSITIONS, isTerminal, type TaskStatus } from "./states.js";
import type { TaskRecord } from "./task-record.js";

/** `allowed[from][to]` is true for an allowed move; plain objects keep the check to two loads. */
const allowed = Object.fromEntries(
  Object.entries(ALLOWED_TRANSITIONS).map(([from, targets]) => [
    from,
    Object.fromEntries(targets.map((to) => [to, true])),
  ]),
) as Record<TaskStatus, Partial<Record<TaskStatus, true>>>;

/**
 * Moves `record` to `to` if the lifecycle allows it; returns false (and changes nothing)
 * otherwise. Callers act on a transition only when it returned true.
 */
export function transition(record: TaskRecord, to: TaskStatus, now: number): boolean {
  if (allowed[record.status][to] !== true) return false;
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
