/**
 * One attempt's lease, fenced by its token: settling it (`ack`, `nack`, `fail`), keeping it
 * (`renew`, `renewMany`) and reporting through it (`progress`). Each is one script call whose
 * negative reply code becomes the typed refusal (`StaleLeaseError` for a lost lease).
 */
import type { ErrorInfo } from "../../types.js";
import { requireInteger, requireNumber } from "../../validation.js";
import type { LeaseRef, RetryAt } from "../durable-types.js";
import { encodeError, encodeJson } from "../json-codec.js";
import { ScriptCode, scriptError, UnexpectedReplyError } from "./errors.js";
import { queueScript, runScript } from "./scripts.js";
import type { StoreContext } from "./store-context.js";

export async function ack(
  store: StoreContext,
  id: string,
  token: string,
  value?: unknown,
): Promise<number> {
  const { retention } = store.options;
  const k = store.keys;
  const reply = await runScript(
    store.redis,
    "ack",
    [k.task(id), k.leases, k.finished, k.events, k.base],
    [
      id,
      token,
      encodeJson("value", value),
      retention.ttlMs,
      retention.maxEntries,
      store.options.eventsMaxLen,
      store.options.trimBudget,
    ],
  );
  return positive(reply, { script: "ack", id, token });
}

export async function nack(
  store: StoreContext,
  id: string,
  token: string,
  when: RetryAt,
  error: Error | ErrorInfo,
  queue?: string,
): Promise<number> {
  const delayMs = "delayMs" in when ? when.delayMs : undefined;
  const runAt = "runAt" in when ? when.runAt : undefined;
  if (delayMs !== undefined) requireNumber("delayMs", delayMs, 0);
  if (runAt !== undefined) requireNumber("runAt", runAt, 0);
  const k = store.keys;
  const taskQueue = queue ?? (await queueOf(store, id));
  if (taskQueue === undefined) throw scriptError(ScriptCode.missing, { script: "nack", id, token });
  const reply = await runScript(
    store.redis,
    "nack",
    [k.task(id), k.leases, k.delayed, k.events, k.marker(taskQueue)],
    [
      id,
      token,
      delayMs === undefined ? "" : Math.ceil(delayMs),
      runAt === undefined ? "" : Math.ceil(runAt),
      encodeError(error),
      store.options.eventsMaxLen,
    ],
  );
  return positive(reply, { script: "nack", id, token });
}

export async function fail(
  store: StoreContext,
  id: string,
  token: string,
  error: Error | ErrorInfo,
): Promise<number> {
  const { deadLetters: dead } = store.options;
  const k = store.keys;
  const reply = await runScript(
    store.redis,
    "fail",
    [k.task(id), k.leases, k.dlq, k.events, k.base],
    [
      id,
      token,
      encodeError(error),
      dead.ttlMs,
      dead.maxEntries,
      store.options.eventsMaxLen,
      store.options.trimBudget,
    ],
  );
  return positive(reply, { script: "fail", id, token });
}

export async function renew(
  store: StoreContext,
  id: string,
  token: string,
  leaseMs: number,
): Promise<number> {
  requireInteger("leaseMs", leaseMs, 1);
  const k = store.keys;
  const reply = await runScript(store.redis, "renew", [k.task(id), k.leases], [id, token, leaseMs]);
  return positive(reply, { script: "renew", id, token });
}

export async function renewMany(
  store: StoreContext,
  leases: readonly LeaseRef[],
  leaseMs: number,
): Promise<Array<number | Error>> {
  requireInteger("leaseMs", leaseMs, 1);
  if (leases.length === 0) return [];
  const k = store.keys;
  const pipeline = store.redis.pipeline();
  for (const { id, token } of leases)
    queueScript(pipeline, "renew", [k.task(id), k.leases], [id, token, leaseMs]);
  const replies = (await pipeline.exec()) ?? [];
  return leases.map(({ id, token }, i) => {
    const [error, reply] = replies[i] ?? [new UnexpectedReplyError("renew", undefined), null];
    if (error) return error;
    try {
      return positive(reply, { script: "renew", id, token });
    } catch (refusal) {
      return refusal as Error;
    }
  });
}

export async function progress(
  store: StoreContext,
  id: string,
  token: string,
  value: unknown,
): Promise<void> {
  const reply = await runScript(
    store.redis,
    "progress",
    [store.keys.task(id)],
    [token, encodeJson("progress", value)],
  );
  positive(reply, { script: "progress", id, token });
}

/** The task's queue, or undefined for an unknown task (a task's queue never changes). */
export async function queueOf(store: StoreContext, id: string): Promise<string | undefined> {
  return (await store.redis.hget(store.keys.task(id), "queue")) ?? undefined;
}

/** A script's positive result, or the typed error its negative code stands for. */
function positive(
  reply: unknown,
  context: { readonly script: string; readonly id: string; readonly token: string },
): number {
  const value = Number(reply);
  if (typeof reply !== "number" || !Number.isFinite(value))
    throw new UnexpectedReplyError(context.script, reply);
  if (value < 0) throw scriptError(value, context);
  return value;
}
