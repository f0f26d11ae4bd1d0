/**
 * Encoding a task for the enqueue script, and decoding its reply. Validation happens here,
 * before anything reaches Redis: a refused task costs no round trip.
 */
import { createHash, randomUUID } from "node:crypto";
import { InvalidArgumentError } from "../../errors.js";
import { fingerprint } from "../../registry/fingerprint.js";
import { encodeJson } from "./codec.js";
import { scriptError, UnexpectedReplyError } from "./errors.js";
import type { KeySpace } from "./keys.js";
import type { ScriptArg } from "./scripts.js";
import type { EnqueueInput, EnqueueResult, StoredTask } from "./types.js";
import { isName, requireInteger, requireNumber } from "./validate.js";

/** One enqueue script call. */
export interface EnqueueCall {
  readonly id: string;
  readonly idempotencyKey: string | undefined;
  readonly keys: string[];
  readonly args: ScriptArg[];
}

/** Validates a task and encodes it as the enqueue script's KEYS and ARGV. */
export function buildEnqueueCall(k: KeySpace, input: EnqueueInput): EnqueueCall {
  if (typeof input !== "object" || input === null)
    throw new InvalidArgumentError("task", "must be an object", input);
  const { name, idempotencyKey, maxRetries, timeoutMs } = input;
  if (!isName(name)) throw new InvalidArgumentError("name", "must be a non-empty string", name);
  const queue = input.queue ?? "default";
  if (!isName(queue)) throw new InvalidArgumentError("queue", "must be a non-empty string", queue);
  if (input.id !== undefined && !isName(input.id))
    throw new InvalidArgumentError("id", "must be a non-empty string", input.id);
  if (idempotencyKey !== undefined && !isName(idempotencyKey))
    throw new InvalidArgumentError("idempotencyKey", "must be a non-empty string", idempotencyKey);
  const priority = input.priority ?? 0;
  requireNumber("priority", priority, Number.NEGATIVE_INFINITY);
  for (const field of ["delayMs", "ttlMs", "runAt", "expiresAt", "timeoutMs"] as const) {
    const value = input[field];
    if (value !== undefined) requireNumber(field, value, 0);
  }
  if (maxRetries !== undefined) requireInteger("maxRetries", maxRetries, 0);
  const payload = encodeJson("payload", input.payload);
  const id = input.id ?? randomUUID();
  // Only compared when a key or an explicit id could name an existing task.
  const fp =
    idempotencyKey !== undefined || input.id !== undefined
      ? createHash("sha256")
          .update(`${name}\n${fingerprint(input.payload) ?? payload}`)
          .digest("base64url")
      : "";
  const args: ScriptArg[] = [
    id,
    name,
    queue,
    payload,
    priority,
    optional(input.delayMs),
    optional(input.runAt),
    optional(input.ttlMs),
    optional(input.expiresAt),
    idempotencyKey ?? "",
    fp,
    optional(maxRetries),
    optional(timeoutMs),
    encodeJson("retry", input.retry),
    encodeJson("meta", input.meta),
    claimSpec(
      name,
      queue,
      priority,
      maxRetries,
      timeoutMs,
      input.retry,
      input.meta,
      idempotencyKey,
    ),
  ];
  const keys = [
    k.task(id),
    k.ready(queue),
    k.delayed,
    k.seq,
    k.marker(queue),
    k.queues,
    idempotencyKey === undefined ? k.noIdempotencyKey : k.idempotency(idempotencyKey),
    k.base,
  ];
  return { id, idempotencyKey, keys, args };
}

/** The enqueue script's reply as a result, or the typed error of its refusal code. */
export function enqueueResult(reply: unknown, call: EnqueueCall): EnqueueResult {
  if (!Array.isArray(reply) || reply.length !== 3) throw new UnexpectedReplyError("enqueue", reply);
  const [code, id, status] = reply as [number, string, StoredTask["status"]];
  if (code === 1 || code === 0) return { id, created: code === 1, status };
  throw scriptError(code, {
    script: "enqueue",
    id: call.id,
    holderId: id,
    ...(call.idempotencyKey === undefined ? {} : { idempotencyKey: call.idempotencyKey }),
  });
}

/**
 * What a claim hands the worker besides the payload and the Redis-timed fields, packed into one
 * hash field (`spec`): one string to read and return instead of eight. JSON array:
 * `[name, queue, priority, maxRetries, timeoutMs, retry, meta, idempotencyKey]`, null for unset.
 * `retry` and `meta` were validated by `encodeJson` already.
 */
export function claimSpec(
  name: string,
  queue: string,
  priority: number,
  maxRetries: number | undefined,
  timeoutMs: number | undefined,
  retry: unknown,
  meta: unknown,
  idempotencyKey: string | undefined,
): string {
  return JSON.stringify([
    name,
    queue,
    priority,
    maxRetries ?? null,
    timeoutMs === undefined ? null : Math.ceil(timeoutMs),
    retry ?? null,
    meta ?? null,
    idempotencyKey ?? null,
  ]);
}

function optional(value: number | undefined): ScriptArg {
  return value === undefined ? "" : Math.ceil(value);
}
