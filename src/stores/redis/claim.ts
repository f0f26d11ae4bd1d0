/**
 * The claim script: encoding a claim (or a worker's step: acks, then a claim) as its KEYS and
 * ARGV, running it, and decoding its reply.
 */

import { InvalidArgumentError } from "../../errors.js";
import type { RateOptions } from "../../options.js";
import { isName, requireInteger } from "../../validation.js";
import type { AckRef, ClaimedTask, ClaimResult, JsonValue, StepResult } from "../durable-types.js";
import { decodeError, decodeJson, encodeJson } from "../json-codec.js";
import { resolveGlobalRate } from "../store-options.js";
import { scriptError, UnexpectedReplyError } from "./errors.js";
import type { KeySpace } from "./keys.js";
import type { ResolvedStoreOptions } from "./options.js";
import { runScript, type ScriptArg } from "./scripts.js";
import type { StoreContext } from "./store-context.js";

/** Per-call overrides of `claim`. */
export interface ClaimOptions {
  /** Overrides the store's `maxDeliveries` for this call. */
  readonly maxDeliveries?: number;
  /** Overrides the store's `globalRate`; `null` claims without a rate limit. */
  readonly globalRate?: RateOptions | null;
}

/**
 * What a worker step adds to a claim: acks sent in the same script call, and a request id that
 * makes the claim recoverable when its reply is lost.
 */
export interface StepInput {
  /** Acks (already JSON-encoded results, `""` for undefined) applied before the claim. */
  readonly acks?: readonly EncodedAck[];
  /**
   * Unique per call (e.g. `<worker id>:<sequence>`). The script keeps a receipt of the leases
   * it returns under this id until they expire; a replay of the same call (a client resending
   * it after a dropped connection) gets those leases back instead of new ones.
   */
  readonly requestId?: string;
  /** Request ids of earlier calls whose reply never arrived: their leases are returned too. */
  readonly unanswered?: readonly string[];
}

/** One ack of a step, its result already encoded. */
export interface EncodedAck {
  readonly id: string;
  readonly token: string;
  /** JSON text, `""` for undefined. */
  readonly value: string;
}

/** Runs one claim (see `RedisStore.claim`). */
export async function claim(
  store: StoreContext,
  queues: readonly string[],
  max: number,
  leaseMs: number,
  options: ClaimOptions,
): Promise<ClaimResult> {
  const call = buildClaimCall(store.keys, store.options, queues, max, leaseMs, options);
  const { ackCodes: _, ...result } = parseClaimReply(
    await runScript(store.redis, "claim", call.keys, call.args),
  );
  return result;
}

/**
 * Runs one worker step (see `RedisStore.step`): an ack whose value cannot be encoded gets its
 * error without being sent; the others ride the claim call, each answered by its own code.
 */
export async function step(
  store: StoreContext,
  acks: readonly AckRef[],
  queues: readonly string[],
  max: number,
  input: Omit<StepInput, "acks">,
  leaseMs: number,
  options: ClaimOptions,
): Promise<StepResult> {
  const results: Array<number | Error> = new Array(acks.length);
  const encoded: EncodedAck[] = [];
  const slots: number[] = [];
  acks.forEach((ack, i) => {
    try {
      encoded.push({ id: ack.id, token: ack.token, value: encodeJson("value", ack.value) });
      slots.push(i);
    } catch (error) {
      results[i] = error as Error;
    }
  });
  const call = buildClaimCall(store.keys, store.options, queues, max, leaseMs, options, {
    ...input,
    acks: encoded,
  });
  const { ackCodes, ...claimed } = parseClaimReply(
    await runScript(store.redis, "claim", call.keys, call.args),
  );
  if (ackCodes.length !== encoded.length) throw new UnexpectedReplyError("claim", ackCodes);
  ackCodes.forEach((code, j) => {
    const ack = encoded[j] as EncodedAck;
    results[slots[j] as number] =
      code > 0 ? code : scriptError(code, { script: "ack", id: ack.id, token: ack.token });
  });
  return { ...claimed, acks: results };
}

/** Validates a claim and encodes it as the claim script's KEYS and ARGV. */
export function buildClaimCall(
  k: KeySpace,
  store: ResolvedStoreOptions,
  queues: readonly string[],
  max: number,
  leaseMs: number,
  options: ClaimOptions,
  step: StepInput = {},
): { readonly keys: string[]; readonly args: ScriptArg[] } {
  if (!Array.isArray(queues) || queues.length === 0 || !queues.every(isName))
    throw new InvalidArgumentError("queues", "must be a non-empty array of queue names", queues);
  requireInteger("max", max, step.acks === undefined ? 1 : 0);
  requireInteger("leaseMs", leaseMs, 1);
  const maxDeliveries = options.maxDeliveries ?? store.maxDeliveries;
  requireInteger("maxDeliveries", maxDeliveries, 0);
  const rate =
    options.globalRate === null
      ? undefined
      : options.globalRate === undefined
        ? store.globalRate
        : resolveGlobalRate(options.globalRate);
  const requestId = step.requestId ?? "";
  const unanswered = requestId === "" ? [] : (step.unanswered ?? []);
  const keys = [
    k.base,
    k.delayed,
    k.leases,
    k.dlq,
    k.fence,
    k.rate,
    k.events,
    k.seq,
    k.finished,
    requestId === "" ? k.noReceipt : k.receipt(requestId),
  ];
  for (const earlier of unanswered) keys.push(k.receipt(earlier));
  for (const queue of new Set(queues)) keys.push(k.ready(queue), k.marker(queue));
  const acks = step.acks ?? [];
  const { deadLetters: dead, retention } = store;
  const args: ScriptArg[] = [
    max,
    leaseMs,
    maxDeliveries,
    store.promoteBatch,
    rate?.perSecond ?? 0,
    rate?.burst ?? 0,
    store.eventsMaxLen,
    dead.ttlMs,
    dead.maxEntries,
    retention.ttlMs,
    retention.maxEntries,
    store.trimBudget,
    requestId,
    unanswered.length,
    acks.length,
  ];
  for (const ack of acks) args.push(ack.id, ack.token, ack.value);
  return { keys, args };
}

/** The claim script's reply as a {@link ClaimResult}, with the raw ack codes. */
export function parseClaimReply(reply: unknown): ClaimResult & { readonly ackCodes: number[] } {
  if (
    !Array.isArray(reply) ||
    reply.length !== 7 ||
    !Array.isArray(reply[5]) ||
    !Array.isArray(reply[6])
  )
    throw new UnexpectedReplyError("claim", reply);
  const [now, nextDue, rateWait, poisoned, expired, tasks, acks] = reply as [
    string,
    string,
    string,
    number,
    number,
    unknown[],
    unknown[],
  ];
  return {
    ackCodes: acks.map(Number),
    tasks: tasks.map(parseClaimed),
    now: Number(now),
    nextDueAt: nextDue === "" ? undefined : Number(nextDue),
    rateWaitMs: Number(rateWait),
    poisoned: Number(poisoned),
    expired: Number(expired),
  };
}

/**
 * One leased task of the claim script's reply: its fields by position (see the script's
 * header), `""` for absent ones; the static ones packed in the spec (see `claimSpec`).
 */
function parseClaimed(entry: unknown): ClaimedTask {
  if (!Array.isArray(entry) || entry.length !== 12) throw new UnexpectedReplyError("claim", entry);
  const f = entry as string[];
  const fence = Number(f[4]);
  if (!Number.isSafeInteger(fence) || fence <= 0) throw new UnexpectedReplyError("claim", entry);
  const spec = parseSpec(f[9] as string);
  if (!Array.isArray(spec) || spec.length !== 8) throw new UnexpectedReplyError("claim", entry);
  const [name, queue, priority, maxRetries, timeoutMs, retry, meta, idem] = spec as [
    string,
    string,
    number | string,
    number | string | null,
    number | string | null,
    JsonValue | null,
    JsonValue | null,
    string | null,
  ];
  const task: { -readonly [K in keyof ClaimedTask]: ClaimedTask[K] } = {
    id: f[0] as string,
    name,
    queue,
    status: "running",
    priority: Number(priority),
    payload: decodeJson(f[8]),
    attempts: Number(f[1]),
    deliveries: Number(f[2]),
    createdAt: Number(f[6]),
    runAt: undefined,
    expiresAt: f[7] === "" ? undefined : Number(f[7]),
    startedAt: Number(f[3]),
    finishedAt: undefined,
    token: f[4] as string,
    fence,
    leaseUntil: Number(f[5]),
    maxRetries: maxRetries === null ? undefined : Number(maxRetries),
    timeoutMs: timeoutMs === null ? undefined : Number(timeoutMs),
    retry: retry ?? undefined,
    meta: meta ?? undefined,
    idempotencyKey: idem ?? undefined,
    value: undefined,
    progress: undefined,
    error: decodeError(f[10]),
  };
  // Set after, not spread in: a spread copies the whole record into a new object per task.
  if (f[11] !== "") task.dependencies = JSON.parse(f[11] as string);
  return task;
}

/** Parsed specs without per-task parts (retry, meta, key), by their text (see `parseSpec`). */
const plainSpecs = new Map<string, readonly unknown[]>();
/** Distinct plain specs kept: one per task name, queue and priority in use is the usual need. */
const PLAIN_SPECS_MAX = 256;

/**
 * A claimed task's spec (see `claimSpec`). Most tasks of a deployment share a handful of spec
 * texts (name, queue, priority, nothing per task): those are parsed once and the array reused,
 * read-only; a spec with retry, meta or an idempotency key is parsed each time, so that no
 * object is shared between two claimed tasks.
 */
function parseSpec(text: string): unknown {
  const known = plainSpecs.get(text);
  if (known !== undefined) return known;
  const spec = JSON.parse(text) as unknown;
  if (
    Array.isArray(spec) &&
    spec.length === 8 &&
    spec[5] === null &&
    spec[6] === null &&
    spec[7] === null
  ) {
    if (plainSpecs.size >= PLAIN_SPECS_MAX) plainSpecs.clear();
    plainSpecs.set(text, Object.freeze(spec));
  }
  return spec;
}
