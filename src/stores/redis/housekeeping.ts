/**
 * The Redis store's housekeeping, run by the `Reaper` and by `cancel`: reclaiming expired
 * leases, trimming finished records and dead letters past their bounds, and cancelling a task
 * wherever it waits or runs.
 */
import { NotFoundError } from "../../errors.js";
import type { ErrorInfo } from "../../types.js";
import type { CancelResult, ReclaimResult, TrimResult } from "../durable-types.js";
import { encodeError } from "../json-codec.js";
import { ScriptCode, scriptError, UnexpectedReplyError } from "./errors.js";
import { queueOf } from "./lease-outcomes.js";
import { runScript } from "./scripts.js";
import type { StoreContext } from "./store-context.js";

/** Most reclaim batches one `reclaim()` call runs before returning. */
const MAX_RECLAIM_ROUNDS = 20;

export async function reclaim(store: StoreContext): Promise<ReclaimResult> {
  const k = store.keys;
  const { deadLetters: dead } = store.options;
  let reclaimed = 0;
  let poisoned = 0;
  let nextExpiryInMs: number | undefined;
  for (let round = 0; round < MAX_RECLAIM_ROUNDS; round++) {
    const reply = await runScript(
      store.redis,
      "reclaim",
      [k.leases, k.dlq, k.events, k.seq, k.base],
      [
        store.options.maxDeliveries,
        store.options.reclaimBatch,
        store.options.eventsMaxLen,
        dead.ttlMs,
        dead.maxEntries,
        store.options.trimBudget,
      ],
    );
    if (!Array.isArray(reply) || reply.length !== 4)
      throw new UnexpectedReplyError("reclaim", reply);
    reclaimed += Number(reply[0]);
    poisoned += Number(reply[1]);
    const next = Number(reply[3]);
    nextExpiryInMs = next >= 0 ? next : undefined;
    if (Number(reply[2]) !== 1) break;
  }
  return { reclaimed, poisoned, nextExpiryInMs };
}

export async function cancel(
  store: StoreContext,
  id: string,
  error?: Error | ErrorInfo,
): Promise<CancelResult> {
  const k = store.keys;
  const { retention } = store.options;
  const reason = encodeError(
    error ?? { name: "CancelledError", message: "cancel() was called", code: "ERR_CANCELLED" },
  );
  // The queue never changes, so reading it first is safe; the script re-checks it anyway.
  for (let attempt = 0; attempt < 3; attempt++) {
    const queue = await queueOf(store, id);
    if (queue === undefined) throw new NotFoundError("task", id);
    const reply = await runScript(
      store.redis,
      "cancel",
      [k.task(id), k.ready(queue), k.delayed, k.leases, k.finished, k.events, k.base],
      [
        id,
        queue,
        reason,
        retention.ttlMs,
        retention.maxEntries,
        store.options.eventsMaxLen,
        store.options.trimBudget,
      ],
    );
    const code = Number(reply);
    if (code === 1 || code === 2) return { cancelled: true, wasRunning: code === 2 };
    if (code === 0) return { cancelled: false, wasRunning: false };
    if (code !== ScriptCode.queueMismatch) throw scriptError(code, { script: "cancel", id });
  }
  throw new UnexpectedReplyError("cancel", "queue kept changing");
}

export async function trim(store: StoreContext): Promise<TrimResult> {
  const k = store.keys;
  const { retention, deadLetters: dead } = store.options;
  const reply = await runScript(
    store.redis,
    "trim",
    [k.finished, k.dlq, k.base],
    [retention.ttlMs, retention.maxEntries, dead.ttlMs, dead.maxEntries, store.options.trimBudget],
  );
  if (!Array.isArray(reply) || reply.length !== 2) throw new UnexpectedReplyError("trim", reply);
  return { finished: Number(reply[0]), deadLetters: Number(reply[1]) };
}
