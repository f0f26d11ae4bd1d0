/**
 * Converting between JavaScript values and what Redis stores: strict JSON for payloads and
 * results, flat field lists for task hashes and stream entries.
 */
import { InvalidArgumentError } from "../../errors.js";
import { TaskStatus } from "../../lifecycle/states.js";
import { errorInfo } from "../../lifecycle/task-record.js";
import type { ErrorInfo } from "../../types.js";
import type { JsonValue, StoredTask, TaskEvent } from "../durable-types.js";
import { UnexpectedReplyError } from "./errors.js";

/**
 * JSON text for `value`, or `""` for `undefined`. Refuses, with `InvalidArgumentError` naming
 * `argument`, anything `JSON.stringify` would silently change or choke on: functions, symbols,
 * BigInt, non-finite numbers, cycles, `undefined` inside arrays, and objects that are neither
 * plain nor `toJSON`-able (Map, Set, class instances). `toJSON` is honoured (a Date becomes
 * its ISO string); `undefined` object properties are dropped, as JSON does.
 */
export function encodeJson(argument: string, value: unknown): string {
  if (value === undefined) return "";
  let problem: string | undefined;
  const replacer = function (this: unknown, key: string, current: unknown): unknown {
    if (problem !== undefined) return undefined;
    const where = key === "" ? "the value" : `key "${key}"`;
    switch (typeof current) {
      case "function":
      case "symbol":
      case "bigint":
        problem = `${where} is a ${typeof current}`;
        return undefined;
      case "number":
        if (!Number.isFinite(current)) problem = `${where} is ${current}`;
        return current;
      case "undefined":
        if (Array.isArray(this)) problem = `an array holds undefined at index ${key}`;
        return current;
      case "object": {
        if (current === null || Array.isArray(current)) return current;
        const proto = Object.getPrototypeOf(current);
        if (proto !== Object.prototype && proto !== null)
          problem = `${where} is a ${proto?.constructor?.name ?? "non-plain object"}`;
        return current;
      }
      default:
        return current;
    }
  };
  let text: string | undefined;
  try {
    text = JSON.stringify(value, replacer);
  } catch (error) {
    // Cycles (and throwing toJSON methods) end up here.
    problem = error instanceof Error ? error.message : String(error);
  }
  if (problem !== undefined || text === undefined)
    throw new InvalidArgumentError(
      argument,
      `must be JSON data (${problem ?? "it has no JSON form"})`,
      value,
    );
  return text;
}

/** Parses JSON written by {@link encodeJson}; absent or `""` is `undefined`. */
export function decodeJson(text: string | undefined): unknown {
  return text === undefined || text === "" ? undefined : JSON.parse(text);
}

/** An error as the JSON the scripts store. */
export function encodeError(error: Error | ErrorInfo): string {
  const info = error instanceof Error ? errorInfo(error) : error;
  return JSON.stringify(
    info.code === undefined
      ? { name: info.name, message: info.message }
      : { name: info.name, message: info.message, code: info.code },
  );
}

/** Parses an error written by {@link encodeError}; absent or `""` is `undefined`. */
export function decodeError(text: string | undefined): ErrorInfo | undefined {
  const parsed = decodeJson(text);
  if (typeof parsed !== "object" || parsed === null) return undefined;
  const { name, message, code } = parsed as Record<string, unknown>;
  return {
    name: typeof name === "string" ? name : "Error",
    message: typeof message === "string" ? message : "",
    ...(typeof code === "string" ? { code } : {}),
  };
}

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
