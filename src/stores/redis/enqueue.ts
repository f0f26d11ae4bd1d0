/**
 * The enqueue and enqueue-many scripts: encoding tasks for them, running them, and decoding
 * their replies.
 * Validation happens here, before anything reaches Redis: a refused task costs no round trip,
 * and one invalid task of a batch means nothing of it is sent.
 */
import { hash, randomUUID } from "node:crypto";
import { InvalidArgumentError } from "../../errors.js";
import { fingerprint } from "../../registry/fingerprint.js";
import { isName, requireInteger, requireNumber } from "../../validation.js";
import type { EnqueueInput, EnqueueResult, StoredTask } from "../durable-types.js";
import { encodeJson } from "../json-codec.js";
import { scriptError, UnexpectedReplyError } from "./errors.js";
import type { KeySpace } from "./keys.js";
import { runScript, type ScriptArg } from "./scripts.js";
import type { StoreContext } from "./store-context.js";

/** Stores one task (see `RedisStore.enqueue`). */
export async function enqueue(store: StoreContext, input: EnqueueInput): Promise<EnqueueResult> {
  const call = buildEnqueueCall(store.keys, input);
  return enqueueResult(await runScript(store.redis, "enqueue", call.keys, call.args), call);
}

/** Stores several tasks in one script call (see `RedisStore.enqueueMany`). */
export async function enqueueMany(
  store: StoreContext,
  inputs: readonly EnqueueInput[],
): Promise<EnqueueResult[]> {
  const call = buildEnqueueManyCall(store.keys, inputs);
  if (call.tasks.length === 0) return [];
  return enqueueManyResults(
    await runScript(store.redis, "enqueueMany", call.keys, call.args),
    call,
  );
}

/** One task encoded as the 16 script arguments enqueue and enqueue-many take for it. */
export interface EncodedTask {
  readonly id: string;
  readonly queue: string;
  readonly idempotencyKey: string | undefined;
  /** enqueue's ARGV[1..16], also one group of enqueue-many's ARGV. */
  readonly args: ScriptArg[];
}

/** One enqueue script call. */
export interface EnqueueCall {
  readonly id: string;
  readonly idempotencyKey: string | undefined;
  readonly keys: string[];
  readonly args: ScriptArg[];
}

/** One enqueue-many script call: its tasks, in order, and the call's KEYS and ARGV. */
export interface EnqueueManyCall {
  readonly tasks: readonly EncodedTask[];
  readonly keys: string[];
  readonly args: ScriptArg[];
}

/** The flags of enqueue-many's reply: created queued, created scheduled, already there. */
const Q = "q".charCodeAt(0);
const S = "s".charCodeAt(0);
const E = "e".charCodeAt(0);

/** Arguments per task in enqueue-many's ARGV (see the script's header). */
const TASK_ARGS = 16;

/**
 * Validates a task and encodes it as the 16 arguments both enqueue scripts take for one task.
 * Throws `InvalidArgumentError` naming the argument (`at` prefixes it, e.g. `inputs[3].`).
 */
export function encodeTask(input: EnqueueInput, at = ""): EncodedTask {
  if (typeof input !== "object" || input === null)
    throw new InvalidArgumentError(
      at === "" ? "task" : at.slice(0, -1),
      "must be an object",
      input,
    );
  const { name, idempotencyKey, maxRetries, timeoutMs } = input;
  if (!isName(name))
    throw new InvalidArgumentError(`${at}name`, "must be a non-empty string", name);
  const queue = input.queue ?? "default";
  if (!isName(queue))
    throw new InvalidArgumentError(`${at}queue`, "must be a non-empty string", queue);
  if (input.id !== undefined && !isName(input.id))
    throw new InvalidArgumentError(`${at}id`, "must be a non-empty string", input.id);
  if (idempotencyKey !== undefined && !isName(idempotencyKey))
    throw new InvalidArgumentError(
      `${at}idempotencyKey`,
      "must be a non-empty string",
      idempotencyKey,
    );
  const priority = input.priority ?? 0;
  requireNumber(`${at}priority`, priority, Number.NEGATIVE_INFINITY);
  for (const field of ["delayMs", "ttlMs", "runAt", "expiresAt", "timeoutMs"] as const) {
    const value = input[field];
    if (value !== undefined) requireNumber(`${at}${field}`, value, 0);
  }
  if (maxRetries !== undefined) requireInteger(`${at}maxRetries`, maxRetries, 0);
  const payload = encodeJson(`${at}payload`, input.payload);
  const id = input.id ?? randomUUID();
  // Only compared when a key or an explicit id could name an existing task.
  // (`hash` is the one-shot form: no Hash object per task.)
  const fp =
    idempotencyKey !== undefined || input.id !== undefined
      ? hash("sha256", `${name}\n${fingerprint(input.payload) ?? payload}`, "base64url")
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
    encodeJson(`${at}retry`, input.retry),
    encodeJson(`${at}meta`, input.meta),
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
  return { id, queue, idempotencyKey, args };
}

/** Validates a task and encodes it as the enqueue script's KEYS and ARGV. */
export function buildEnqueueCall(k: KeySpace, input: EnqueueInput): EnqueueCall {
  const { id, queue, idempotencyKey, args } = encodeTask(input);
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

/**
 * Validates every task (the first invalid one throws, naming it as `inputs[i].<argument>`, so
 * nothing reaches Redis) and encodes them all as one enqueue-many call.
 */
export function buildEnqueueManyCall(
  k: KeySpace,
  inputs: readonly EnqueueInput[],
): EnqueueManyCall {
  if (!Array.isArray(inputs))
    throw new InvalidArgumentError("inputs", "must be an array of tasks", inputs);
  const tasks = inputs.map((input, i) => encodeTask(input, `inputs[${i}].`));
  const args: ScriptArg[] = new Array(1 + tasks.length * TASK_ARGS);
  args[0] = tasks.length;
  let at = 1;
  for (const task of tasks) for (const arg of task.args) args[at++] = arg;
  return { tasks, keys: [k.base, k.delayed, k.seq, k.queues], args };
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
 * The enqueue-many script's reply as one result per task, in order; or, when it refused the
 * call (nothing was written), the typed error of the task it refused, as `enqueue` would have
 * thrown it for that task.
 */
export function enqueueManyResults(reply: unknown, call: EnqueueManyCall): EnqueueResult[] {
  if (!Array.isArray(reply) || reply.length === 0)
    throw new UnexpectedReplyError("enqueueMany", reply);
  const outcome = reply[0];
  if (outcome === 1) {
    // { 1, flags, id, status, ... }: one flag per task, a pair per task that names another.
    const n = call.tasks.length;
    const flags = reply[1] as unknown;
    if (typeof flags !== "string" || flags.length !== n)
      throw new UnexpectedReplyError("enqueueMany", reply);
    const results: EnqueueResult[] = new Array(n);
    let named = 2;
    for (let i = 0; i < n; i++) {
      const flag = flags.charCodeAt(i);
      if (flag === Q || flag === S) {
        results[i] = {
          id: (call.tasks[i] as EncodedTask).id,
          created: true,
          status: flag === Q ? "queued" : "scheduled",
        };
        continue;
      }
      const id = reply[named] as unknown;
      const status = reply[named + 1] as unknown;
      if (flag !== E || typeof id !== "string" || typeof status !== "string")
        throw new UnexpectedReplyError("enqueueMany", reply);
      results[i] = { id, created: false, status: status as StoredTask["status"] };
      named += 2;
    }
    if (named !== reply.length) throw new UnexpectedReplyError("enqueueMany", reply);
    return results;
  }
  const index = Number(reply[1]) - 1;
  const task = call.tasks[index];
  if (reply.length !== 3 || typeof outcome !== "number" || task === undefined)
    throw new UnexpectedReplyError("enqueueMany", reply);
  throw scriptError(outcome, {
    script: "enqueueMany",
    id: task.id,
    holderId: String(reply[2]),
    ...(task.idempotencyKey === undefined ? {} : { idempotencyKey: task.idempotencyKey }),
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
  // A batch is usually many tasks of one name and queue with no per-task options: their spec
  // is the same text, so it is built once instead of once per task (a string per task is
  // garbage the collector pauses for).
  const plain =
    maxRetries === undefined &&
    timeoutMs === undefined &&
    retry === undefined &&
    meta === undefined &&
    idempotencyKey === undefined;
  if (!plain)
    return buildSpec(name, queue, priority, maxRetries, timeoutMs, retry, meta, idempotencyKey);
  const last = lastPlainSpec;
  if (
    last !== undefined &&
    last.name === name &&
    last.queue === queue &&
    last.priority === priority
  )
    return last.spec;
  const spec = buildSpec(
    name,
    queue,
    priority,
    undefined,
    undefined,
    undefined,
    undefined,
    undefined,
  );
  lastPlainSpec = { name, queue, priority, spec };
  return spec;
}

/** The spec of the last task without per-task options (see `claimSpec`). */
let lastPlainSpec:
  | {
      readonly name: string;
      readonly queue: string;
      readonly priority: number;
      readonly spec: string;
    }
  | undefined;

function buildSpec(
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
