/**
 * Views of stored data in the engine's public shapes: `TaskSnapshot` for `get`/`list`/DLQ,
 * `TaskResult` for result subscribers fed from the events stream.
 */
import { isTerminal } from "../lifecycle/states.js";
import type { TaskResult, TaskSnapshot } from "../types.js";
import type { StoredTask, TaskEvent } from "./durable-types.js";

/**
 * A stored task as a `TaskSnapshot`. `maxRetries` falls back to `defaultMaxRetries` (the
 * manager's policy) for tasks enqueued without one.
 */
export function toSnapshot(task: StoredTask, defaultMaxRetries = 0): TaskSnapshot {
  return {
    id: task.id,
    name: task.name,
    queue: task.queue,
    status: task.status,
    priority: task.priority,
    attempts: task.attempts,
    maxRetries: task.maxRetries ?? defaultMaxRetries,
    createdAt: task.createdAt,
    ...defined("runAt", task.runAt),
    ...defined("expiresAt", task.expiresAt),
    ...defined("startedAt", task.startedAt),
    ...defined("finishedAt", task.finishedAt),
    ...defined("idempotencyKey", task.idempotencyKey),
    ...defined("progress", task.progress),
    ...defined("value", task.value),
    ...defined("error", task.error),
  };
}

/** A terminal event as a `TaskResult`; `undefined` for retries and replays. */
export function toTaskResult(event: TaskEvent): TaskResult | undefined {
  if (!isTerminal(event.status)) return undefined;
  return {
    id: event.id,
    name: event.name,
    queue: event.queue,
    status: event.status,
    attempts: event.attempts,
    createdAt: event.createdAt ?? event.at,
    finishedAt: event.finishedAt ?? event.at,
    ...defined("startedAt", event.startedAt),
    ...defined("value", event.value),
    ...defined("error", event.error),
  };
}

function defined<K extends string, V>(key: K, value: V | undefined): { [P in K]?: V } {
  return (value === undefined ? {} : { [key]: value }) as { [P in K]?: V };
}
