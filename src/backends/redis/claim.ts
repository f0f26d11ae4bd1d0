/**
 * Encoding a claim for the claim script, and decoding its reply.
 */

import { InvalidArgumentError } from "../../errors.js";
import type { RateOptions } from "../../options.js";
import { fieldMap, parseTask } from "./codec.js";
import { UnexpectedReplyError } from "./errors.js";
import type { KeySpace } from "./keys.js";
import { type ResolvedStoreOptions, resolveRate } from "./options.js";
import type { ScriptArg } from "./scripts.js";
import type { ClaimedTask, ClaimResult } from "./types.js";
import { isName, requireInteger } from "./validate.js";

/** Per-call overrides of `claim`. */
export interface ClaimOptions {
  /** Overrides the store's `maxDeliveries` for this call. */
  readonly maxDeliveries?: number;
  /** Overrides the store's `globalRate`; `null` claims without a rate limit. */
  readonly globalRate?: RateOptions | null;
}

/** Validates a claim and encodes it as the claim script's KEYS and ARGV. */
export function buildClaimCall(
  k: KeySpace,
  store: ResolvedStoreOptions,
  queues: readonly string[],
  max: number,
  leaseMs: number,
  options: ClaimOptions,
): { readonly keys: string[]; readonly args: ScriptArg[] } {
  if (!Array.isArray(queues) || queues.length === 0 || !queues.every(isName))
    throw new InvalidArgumentError("queues", "must be a non-empty array of queue names", queues);
  requireInteger("max", max, 1);
  requireInteger("leaseMs", leaseMs, 1);
  const maxDeliveries = options.maxDeliveries ?? store.maxDeliveries;
  requireInteger("maxDeliveries", maxDeliveries, 0);
  const rate =
    options.globalRate === null
      ? undefined
      : options.globalRate === undefined
        ? store.globalRate
        : resolveRate(options.globalRate);
  const keys = [k.base, k.delayed, k.leases, k.dlq, k.fence, k.rate, k.events, k.seq, k.finished];
  for (const queue of new Set(queues)) keys.push(k.ready(queue), k.marker(queue));
  const { deadLetters: dead, retention } = store;
  const args = [
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
  ];
  return { keys, args };
}

/** The claim script's reply as a {@link ClaimResult}. */
export function parseClaimReply(reply: unknown): ClaimResult {
  if (!Array.isArray(reply) || reply.length !== 6 || !Array.isArray(reply[5]))
    throw new UnexpectedReplyError("claim", reply);
  const [now, nextDue, rateWait, poisoned, expired, tasks] = reply as [
    string,
    string,
    string,
    number,
    number,
    unknown[],
  ];
  return {
    tasks: tasks.map((flat) => parseTask(fieldMap(flat, "claim"), "claim") as ClaimedTask),
    now: Number(now),
    nextDueAt: nextDue === "" ? undefined : Number(nextDue),
    rateWaitMs: Number(rateWait),
    poisoned: Number(poisoned),
    expired: Number(expired),
  };
}
