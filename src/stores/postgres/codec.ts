/**
 * Rows and function replies of the Postgres store as the port's types. JSON columns hold the
 * text the client encoded (`encodeJson`), so values come back exactly as they went in.
 */
import { TaskStatus } from "../../lifecycle/states.js";
import type { DependencyOutcome } from "../../types.js";
import type { ClaimedTask, JsonValue, StoredTask, TaskEvent } from "../durable-types.js";
import { decodeError, decodeJson } from "../json-codec.js";

/** A store reply that its function's contract does not allow: a bug, never user error. */
export class UnexpectedRowError extends Error {
  constructor(what: string, reply: unknown) {
    super(`Unexpected reply from Postgres (${what}): ${safeText(reply)}`);
    this.name = "UnexpectedRowError";
  }
}

const STATUSES = new Set<string>(Object.values(TaskStatus));

/** Columns `get` reads (list leaves out payload and progress, which may be large). */
export const TASK_COLUMNS =
  "id, name, queue, status, priority, attempts, deliveries, created_at, run_at, expires_at, " +
  "started_at, finished_at, token, lease_until, max_retries, timeout_ms, retry, meta, idem_key, " +
  "value, error";

type Row = Record<string, unknown>;

/** A `tasks` row as a {@link StoredTask}. */
export function taskFromRow(row: Row): StoredTask {
  const status = String(row.status);
  if (!STATUSES.has(status)) throw new UnexpectedRowError("task", row);
  return {
    id: String(row.id),
    name: String(row.name),
    queue: String(row.queue),
    status: status as TaskStatus,
    priority: Number(row.priority),
    payload: decodeText(row.payload),
    attempts: Number(row.attempts),
    deliveries: Number(row.deliveries),
    createdAt: Number(row.created_at),
    runAt: optionalNumber(row.run_at),
    expiresAt: optionalNumber(row.expires_at),
    startedAt: optionalNumber(row.started_at),
    finishedAt: optionalNumber(row.finished_at),
    token: row.token === null || row.token === undefined ? undefined : String(row.token),
    leaseUntil: optionalNumber(row.lease_until),
    maxRetries: optionalNumber(row.max_retries),
    timeoutMs: optionalNumber(row.timeout_ms),
    retry: decodeText(row.retry) as JsonValue | undefined,
    meta: decodeText(row.meta) as JsonValue | undefined,
    idempotencyKey:
      row.idem_key === null || row.idem_key === undefined ? undefined : String(row.idem_key),
    value: decodeText(row.value),
    progress: decodeText(row.progress),
    error: decodeError(textOf(row.error)),
  };
}

/**
 * One leased task of a claim reply: positions as `claimEntry` in `sql/step-v1.ts` builds
 * them.
 */
export function claimedFromEntry(entry: unknown): ClaimedTask {
  // 19 with migration 4 (flows): the node's dependencies' outcomes last.
  if (!Array.isArray(entry) || (entry.length !== 18 && entry.length !== 19))
    throw new UnexpectedRowError("claim", entry);
  const [
    id,
    attempts,
    deliveries,
    startedAt,
    token,
    leaseUntil,
    createdAt,
    expiresAt,
    payload,
    name,
    queue,
    priority,
    maxRetries,
    timeoutMs,
    retry,
    meta,
    idem,
    error,
    deps,
  ] = entry as unknown[];
  const fence = Number(token);
  if (!Number.isSafeInteger(fence) || fence <= 0) throw new UnexpectedRowError("claim", entry);
  return {
    id: String(id),
    name: String(name),
    queue: String(queue),
    status: "running",
    priority: Number(priority),
    payload: decodeText(payload),
    attempts: Number(attempts),
    deliveries: Number(deliveries),
    createdAt: Number(createdAt),
    runAt: undefined,
    expiresAt: optionalNumber(expiresAt),
    startedAt: Number(startedAt),
    finishedAt: undefined,
    token: String(fence),
    fence,
    leaseUntil: Number(leaseUntil),
    maxRetries: optionalNumber(maxRetries),
    timeoutMs: optionalNumber(timeoutMs),
    retry: decodeText(retry) as JsonValue | undefined,
    meta: decodeText(meta) as JsonValue | undefined,
    idempotencyKey: idem === null ? undefined : String(idem),
    value: undefined,
    progress: undefined,
    error: decodeError(textOf(error)),
    ...(deps === undefined || deps === null
      ? {}
      : { dependencies: JSON.parse(String(deps)) as Record<string, DependencyOutcome> }),
  };
}

/** Columns of an events row the feed reads. */
export const EVENT_COLUMNS =
  "id, xid, task_id, name, queue, status, attempts, at, created_at, started_at, finished_at, " +
  "run_at, value, error, reason";

/** An `events` row as a {@link TaskEvent}; its position is `<xid>-<id>` (see feed.ts). */
export function eventFromRow(row: Row): TaskEvent {
  const status = String(row.status);
  if (!STATUSES.has(status)) throw new UnexpectedRowError("event", row);
  return {
    streamId: `${String(row.xid)}-${String(row.id)}`,
    id: String(row.task_id),
    name: String(row.name),
    queue: String(row.queue),
    status: status as TaskStatus,
    attempts: Number(row.attempts),
    at: Number(row.at),
    createdAt: optionalNumber(row.created_at),
    startedAt: optionalNumber(row.started_at),
    finishedAt: optionalNumber(row.finished_at),
    runAt: optionalNumber(row.run_at),
    value: decodeText(row.value),
    error: decodeError(textOf(row.error)),
    reason: row.reason === null || row.reason === undefined ? undefined : String(row.reason),
  };
}

function textOf(value: unknown): string | undefined {
  return value === null || value === undefined ? undefined : String(value);
}

function decodeText(value: unknown): unknown {
  return decodeJson(textOf(value));
}

function optionalNumber(value: unknown): number | undefined {
  return value === null || value === undefined || value === "" ? undefined : Number(value);
}

function safeText(value: unknown): string {
  try {
    return JSON.stringify(value) ?? String(value);
  } catch {
    return String(value);
  }
}
