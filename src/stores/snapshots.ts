/**
 * Views of stored data in the engine's public shapes: `TaskSnapshot` for `get`/`list`/DLQ,
 * `TaskResult` for result subscribers fed from the events stream.
 */
import { isTerminal } from "../lifecycle/states.js";
import type { ErrorInfo, TaskResult, TaskSnapshot } from "../types.js";
import type { StoredTask, TaskEvent } from "./durable-types.js";

/**
 * A stored task as a `TaskSnapshot`. `maxRetries` falls back to `defaultMaxRetries` (the
 * manager's policy) for tasks enqueued without one. Only `detail` (what `get()` returns)
 * carries the payload and the error's stack, as in memory mode.
 */
export function toSnapshot(task: StoredTask, defaultMaxRetries = 0, detail = false): TaskSnapshot {
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
    ...defined("error", detail ? task.error : withoutStack(task.error)),
    ...(detail ? defined("payload", task.payload) : {}),
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
    ...defined("error", withoutStack(event.error)),
  };
}

/** The error as lists, results and events show it: stacks are for `get()` only. */
export function withoutStack(error: ErrorInfo | undefined): ErrorInfo | undefined {
  if (error?.stack === undefined) return error;
  const { stack: _stack, ...rest } = error;
  return rest;
}

function defined<K extends string, V>(key: K, value: V | undefined): { [P in K]?: V } {
  return (value === undefined ? {} : { [key]: value }) as { [P in K]?: V };
}
