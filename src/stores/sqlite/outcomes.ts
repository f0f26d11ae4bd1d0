/**
 * Writes guarded by a fencing token, and cancel (`nack-5.lua`, `fail-5.lua`, `progress-1.lua`,
 * `renew-2.lua`, `cancel-7.lua` as SQL). A refused write changes nothing and returns its
 * refusal code; the store turns it into `StaleLeaseError`.
 */
import { NotFoundError } from "../../errors.js";
import type { Tx } from "./committer.js";
import { flowNodeEnded } from "./flows.js";
import { deadLetter, emitEvent, finish, leaseRefusal, readLease, trimSet } from "./records.js";

type Bound = { readonly ttlMs: number; readonly maxEntries: number };

/** Schedules a retry at `runAt` (or `delayMs` from now). Returns the due time or a refusal. */
export function nack(
  tx: Tx,
  id: string,
  token: string,
  when: { readonly delayMs?: number; readonly runAt?: number },
  errorJson: string,
): number {
  const refused = leaseRefusal(readLease(tx, id), token, "nack");
  if (refused !== undefined) return refused;
  const runAt = Math.ceil(when.runAt ?? tx.now + (when.delayMs ?? 0));
  tx.sql
    .q(
      `UPDATE tasks SET status = 'retrying', run_at = ?, due_at = ?, error = ?, deliveries = 0,
         lease_until = NULL, outcome = ?, ready = 0 WHERE id = ?`,
    )
    .run(runAt, runAt, errorJson, `nack:${runAt}`, id);
  emitEvent(tx, id, "retrying", { error: errorJson, runAt });
  // Waiting workers size their sleep by the earliest due time; this one may be earlier.
  tx.wake();
  return runAt;
}

/** Fails the task for good, into the dead-letter queue. Returns the finish time or a refusal. */
export function fail(
  tx: Tx,
  id: string,
  token: string,
  errorJson: string,
  deadLetters: Bound,
  budget: number,
): number {
  const refused = leaseRefusal(readLease(tx, id), token, "fail");
  if (refused !== undefined) return refused;
  tx.sql.q("UPDATE tasks SET outcome = ? WHERE id = ?").run(`fail:${tx.now}`, id);
  deadLetter(tx, id, errorJson);
  // A flow's node: its dependents are resolved in this same transaction.
  flowNodeEnded(tx, id);
  trimSet(tx, "dead", deadLetters, budget);
  return tx.now;
}

/** Stores the running attempt's progress (JSON, null clears it). Returns 1 or a refusal. */
export function progress(tx: Tx, id: string, token: string, json: string | null): number {
  const refused = leaseRefusal(readLease(tx, id), token);
  if (refused !== undefined) return refused;
  tx.sql.q("UPDATE tasks SET progress = ? WHERE id = ?").run(json, id);
  return 1;
}

/** Extends a lease to `leaseMs` from now. Returns the new expiry or a refusal. */
export function renew(tx: Tx, id: string, token: string, leaseMs: number): number {
  const refused = leaseRefusal(readLease(tx, id), token);
  if (refused !== undefined) return refused;
  const leaseUntil = tx.now + leaseMs;
  tx.sql.q("UPDATE tasks SET lease_until = ? WHERE id = ?").run(leaseUntil, id);
  return leaseUntil;
}

/**
 * Cancels a task: 1 for a waiting one, 2 for a running one (its worker's writes are refused
 * from now on), 0 for one already finished. Throws `NotFoundError` for an unknown id.
 */
export function cancel(
  tx: Tx,
  id: string,
  reasonJson: string,
  retention: Bound,
  budget: number,
): number {
  const row = tx.sql.q("SELECT status FROM tasks WHERE id = ?").get(id) as
    | { status: string }
    | undefined;
  if (row === undefined) throw new NotFoundError("task", id);
  let outcome: number;
  if (
    row.status === "queued" ||
    row.status === "scheduled" ||
    row.status === "retrying" ||
    row.status === "waiting"
  )
    outcome = 1;
  else if (row.status === "running") outcome = 2;
  else return 0;
  tx.sql
    .q(
      `UPDATE tasks SET status = 'cancelled', finished_at = ?, error = ?, run_at = NULL,
         lease_until = NULL, pos = NULL, ready = 0, due_at = NULL WHERE id = ?`,
    )
    .run(tx.now, reasonJson, id);
  finish(tx, id);
  emitEvent(tx, id, "cancelled", { error: reasonJson, finishedAt: tx.now });
  flowNodeEnded(tx, id);
  trimSet(tx, "done", retention, budget);
  return outcome;
}
