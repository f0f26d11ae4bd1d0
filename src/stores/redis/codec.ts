/**
 * Converting between JavaScript values and what Redis stores: strict JSON for payloads and
 * results, flat field lists for task hashes and stream entries.
 */
import { TaskStatus } from "../../lifecycle/states.js";
import type { JsonValue, StoredTask, TaskEvent } from "../durable-types.js";
import { decodeError, decodeJson } from "../json-codec.js";
import { UnexpectedReplyError } from "./errors.js";

/** A flat `[field, value, field, value, ...]` reply as a map. */
export function fieldMap(flat: unknown, script: string): Map<string, string> {
  if (!Array.isArray(flat)) throw new UnexpectedReplyError(script, flat);
  const fields = new Map<string, string>();
  for (let i = 0; i + 1 < flat.length; i += 2) fields.set(String(flat[i]), String(flat[i + 1]));
  return fields;
}

const STATUSES = new Set<string>(Object.values(TaskStatus));

/** A task hash (as a field map) as a {@link StoredTask}. */
export function parseTask(fields: Map<string, string>, source: string): StoredTask {
  const id = fields.get("id");
  const status = fields.get("status");
  if (id === undefined || status === undefined || !STATUSES.has(status))
    throw new UnexpectedReplyError(source, Object.fromEntries(fields));
  return {
    id,
    name: fields.get("name") ?? "",
    queue: fields.get("queue") ?? "",
    status: status as TaskStatus,
    priority: Number(fields.get("priority") ?? 0),
    payload: decodeJson(fields.get("payload")),
    attempts: Number(fields.get("attempts") ?? 0),
    deliveries: Number(fields.get("deliveries") ?? 0),
    createdAt: Number(fields.get("createdAt") ?? 0),
    runAt: optionalNumber(fields.get("runAt")),
    expiresAt: optionalNumber(fields.get("expiresAt")),
    startedAt: optionalNumber(fields.get("startedAt")),
    finishedAt: optionalNumber(fields.get("finishedAt")),
    token: optionalText(fields.get("token")),
    leaseUntil: optionalNumber(fields.get("leaseUntil")),
    maxRetries: optionalNumber(fields.get("maxRetries")),
    timeoutMs: optionalNumber(fields.get("timeoutMs")),
    retry: decodeJson(fields.get("retry")) as JsonValue | undefined,
    meta: decodeJson(fields.get("meta")) as JsonValue | undefined,
    idempotencyKey: fields.get("idem"),
    value: decodeJson(fields.get("value")),
    progress: decodeJson(fields.get("progress")),
    error: decodeError(fields.get("error")),
  };
}

/** Hash fields `list` reads: everything but the payload and the progress, which may be large. */
export const LIST_FIELDS = [
  "id",
  "name",
  "queue",
  "status",
  "priority",
  "attempts",
  "deliveries",
  "createdAt",
  "runAt",
  "expiresAt",
  "startedAt",
  "finishedAt",
  "token",
  "leaseUntil",
  "maxRetries",
  "timeoutMs",
  "retry",
  "meta",
  "idem",
  "value",
  "error",
] as const;

/** An HMGET reply over {@link LIST_FIELDS} as a field map (absent fields left out). */
export function listFieldMap(values: readonly (string | null)[]): Map<string, string> {
  const fields = new Map<string, string>();
  LIST_FIELDS.forEach((field, i) => {
    const value = values[i];
    if (value !== null && value !== undefined) fields.set(field, value);
  });
  return fields;
}

/** One XRANGE/XREAD entry `[streamId, [field, value, ...]]` as a {@link TaskEvent}. */
export function parseEvent(entry: unknown): TaskEvent {
  if (!Array.isArray(entry) || typeof entry[0] !== "string")
    throw new UnexpectedReplyError("events", entry);
  const fields = fieldMap(entry[1], "events");
  const status = fields.get("status") ?? "";
  if (!STATUSES.has(status)) throw new UnexpectedReplyError("events", entry);
  return {
    streamId: entry[0],
    id: fields.get("id") ?? "",
    name: fields.get("name") ?? "",
    queue: fields.get("queue") ?? "",
    status: status as TaskStatus,
    attempts: Number(fields.get("attempts") ?? 0),
    at: Number(fields.get("at") ?? 0),
    createdAt: optionalNumber(fields.get("createdAt")),
    startedAt: optionalNumber(fields.get("startedAt")),
    finishedAt: optionalNumber(fields.get("finishedAt")),
    runAt: optionalNumber(fields.get("runAt")),
    value: decodeJson(fields.get("value")),
    error: decodeError(fields.get("error")),
    reason: fields.get("reason"),
  };
}

function optionalText(text: string | undefined): string | undefined {
  return text === "" ? undefined : text;
}

function optionalNumber(text: string | undefined): number | undefined {
  return text === undefined || text === "" ? undefined : Number(text);
}
