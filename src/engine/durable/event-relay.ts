/**
 * Turns the store's events feed into what this process's users see: result subscriptions,
 * lifecycle events and `task.result()` outcomes, whichever process ran the task.
 */
import { CancelledError, ExpiredError, NotFoundError } from "../../errors.js";
import type { TaskEventBus } from "../../events.js";
import type { ResultBroadcaster } from "../../results/broadcaster.js";
import type { StoredTask, TaskEvent } from "../../stores/durable-types.js";
import { withoutStack } from "../../stores/snapshots.js";
import type { TaskSnapshot } from "../../types.js";
import { restoreError } from "./restored-error.js";
import { resultOf } from "./result-feed.js";

/** Where relayed events go. */
export interface RelayTargets {
  readonly events: TaskEventBus;
  readonly results: ResultBroadcaster;
  /** The `maxRetries` a snapshot shows for a task of `name` (see the engine). */
  readonly maxRetries: (name: string) => number;
}

/** Publishes one event of the feed to subscribers and listeners. */
export function relayEvent(event: TaskEvent, targets: RelayTargets): void {
  const { events, results } = targets;
  const result = resultOf(event);
  if (result !== undefined) {
    if (results.size > 0) results.publish(result);
    const status = result.status;
    if (!events.wants(status)) return;
    const task = eventSnapshot(event, targets.maxRetries(event.name));
    if (status === "succeeded") events.emit("succeeded", { task, value: result.value });
    else if (status === "failed")
      events.emit("failed", { task, error: result.error ?? { name: "Error", message: "failed" } });
    else if (status === "cancelled") events.emit("cancelled", { task, reason: "cancel" });
    else events.emit("expired", { task });
  } else if (event.status === "retrying" && events.wants("retrying")) {
    events.emit("retrying", {
      task: eventSnapshot(event, targets.maxRetries(event.name)),
      attempt: event.attempts,
      delayMs: Math.max(0, (event.runAt ?? event.at) - event.at),
      error: withoutStack(event.error) ?? { name: "Error", message: event.reason ?? "retrying" },
    });
  }
}

/** What `task.result()` resolves with (or throws) for a terminal event. */
export function outcomeOf(event: TaskEvent): unknown {
  switch (event.status) {
    case "succeeded":
      return event.value;
    case "cancelled":
      throw new CancelledError("cancel");
    case "expired":
      throw new ExpiredError();
    default:
      if (event.reason === "missing") throw new NotFoundError("task", event.id);
      throw restoreError(event.error ?? { name: "Error", message: "the task failed" });
  }
}

/** A stored terminal task as the event that ended it (when the feed no longer has it). */
export function storedEvent(task: StoredTask): TaskEvent {
  return {
    streamId: "",
    id: task.id,
    name: task.name,
    queue: task.queue,
    status: task.status,
    attempts: task.attempts,
    at: task.finishedAt ?? 0,
    createdAt: task.createdAt,
    startedAt: task.startedAt,
    finishedAt: task.finishedAt,
    runAt: undefined,
    value: task.value,
    error: task.error,
    reason: undefined,
  };
}

/** A task no longer in the store (evicted by retention): its result is gone. */
export function missingEvent(id: string): TaskEvent {
  return {
    streamId: "",
    id,
    name: "",
    queue: "",
    status: "failed",
    attempts: 0,
    at: 0,
    createdAt: undefined,
    startedAt: undefined,
    finishedAt: undefined,
    runAt: undefined,
    value: undefined,
    error: undefined,
    reason: "missing",
  };
}

function eventSnapshot(event: TaskEvent, maxRetries: number): TaskSnapshot {
  return {
    id: event.id,
    name: event.name,
    queue: event.queue,
    status: event.status,
    priority: 0,
    attempts: event.attempts,
    maxRetries,
    createdAt: event.createdAt ?? event.at,
    startedAt: event.startedAt,
    finishedAt: event.finishedAt,
    value: event.value,
    error: withoutStack(event.error),
  };
}
