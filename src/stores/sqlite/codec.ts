/**
 * Rows of the `tasks` and `events` tables as the port's types. JSON columns hold the text
 * `encodeJson` wrote (NULL for `undefined`); times are epoch ms; tokens are integers.
 */
import { TaskStatus } from "../../lifecycle/states.js";
import type { ErrorInfo } from "../../types.js";
import type { JsonValue, StoredTask, TaskEvent } from "../durable-types.js";
import { decodeError, decodeJson } from "../json-codec.js";

/** A row of `tasks` (the columns `get` reads). */
export interface TaskRow {
  readonly id: string;
  readonly name: string;
  readonly queue: string;
  readonly status: string;
  readonly priority: number;
  readonly payload?: string | null;
  readonly attempts: number;
  readonly deliveries: number;
  readonly created_at: number;
  readonly run_at: number | null;
  readonly expires_at: number | null;
  readonly started_at: number | null;
  readonly finished_at: number | null;
  readonly token: number | null;
  readonly lease_until: number | null;
  readonly max_retries: number | null;
  readonly timeout_ms: number | null;
  readonly retry: string | null;
  readonly meta: string | null;
  readonly idem: string | null;
  readonly value: string | null;
  readonly progress?: string | null;
  readonly error: string | null;
  /** A flow node's dependencies' outcomes (schema v2; only the claim reads it). */
  readonly deps?: string | null;
}

/** Columns `list` reads: everything but the payload and the progress, which may be large. */
export const LIST_COLUMNS =
  "id, name, queue, status, priority, attempts, deliveries, created_at, run_at, expires_at, " +
  "started_at, finished_at, token, lease_until, max_retries, timeout_ms, retry, meta, idem, " +
  "value, error";

const STATUSES = new Set<string>(Object.values(TaskStatus));

/** A row as a {@link StoredTask}; `payload` and `progress` are read only when selected. */
export function toTask(row: TaskRow): StoredTask {
  if (!STATUSES.has(row.status)) throw new Error(`unknown task status "${row.status}" in store`);
  return {
    id: row.id,
    name: row.name,
    queue: row.queue,
    status: row.status as TaskStatus,
    priority: row.priority,
    payload: decodeJson(row.payload ?? undefined),
    attempts: row.attempts,
    deliveries: row.deliveries,
    createdAt: row.created_at,
    runAt: row.run_at ?? undefined,
    expiresAt: row.expires_at ?? undefined,
    startedAt: row.started_at ?? undefined,
    finishedAt: row.finished_at ?? undefined,
    token: row.token === null ? undefined : String(row.token),
    leaseUntil: row.lease_until ?? undefined,
    maxRetries: row.max_retries ?? undefined,
    timeoutMs: row.timeout_ms ?? undefined,
    retry: decodeJson(row.retry ?? undefined) as JsonValue | undefined,
    meta: decodeJson(row.meta ?? undefined) as JsonValue | undefined,
    idempotencyKey: row.idem ?? undefined,
    value: decodeJson(row.value ?? undefined),
    progress: decodeJson(row.progress ?? undefined),
    error: decodeError(row.error ?? undefined),
  };
}

/** A row of `events`. */
export interface EventRow {
  readonly pos: number;
  readonly id: string;
  readonly name: string;
  readonly queue: string;
  readonly status: string;
  readonly attempts: number;
  readonly at: number;
  readonly created_at: number | null;
  readonly started_at: number | null;
  readonly finished_at: number | null;
  readonly run_at: number | null;
  readonly value: string | null;
  readonly error: string | null;
  readonly reason: string | null;
}

/** A row of `events` as a {@link TaskEvent}; its position is the row id, as text. */
export function toEvent(row: EventRow): TaskEvent {
  return {
    streamId: String(row.pos),
    id: row.id,
    name: row.name,
    queue: row.queue,
    status: row.status as TaskStatus,
    attempts: row.attempts,
    at: row.at,
    createdAt: row.created_at ?? undefined,
    startedAt: row.started_at ?? undefined,
    finishedAt: row.finished_at ?? undefined,
    runAt: row.run_at ?? undefined,
    value: decodeJson(row.value ?? undefined),
    error: decodeError(row.error ?? undefined) as ErrorInfo | undefined,
    reason: row.reason ?? undefined,
  };
}

/** `""` (what `encodeJson` returns for `undefined`) as NULL. */
export function nullable(text: string): string | null {
  return text === "" ? null : text;
}
