/**
 * Reclaim, retention and the dead-letter writes (`reclaim-5.lua`, `trim-3.lua`,
 * `dlq-replay-4.lua`, `dlq-purge-2.lua` as SQL), each in bounded batches so one transaction
 * stays short.
 */
import type { Tx } from "./committer.js";
import { flowNodeEnded } from "./flows.js";
import { count, deadLetter, emitEvent, LAPSED_ERROR, poisonError, trimSet } from "./records.js";

type Bound = { readonly ttlMs: number; readonly maxEntries: number };

/** What one reclaim batch did. */
export interface ReclaimBatch {
  readonly reclaimed: number;
  readonly poisoned: number;
  /** The batch was full: call again. */
  readonly more: boolean;
  /** Ms until the earliest lease still held expires; -1 when none is held. */
  readonly nextExpiry: number;
}

/**
 * Puts tasks whose lease expired back into their ready queue in the place they had (their
 * `pos` was kept since the claim), or into the dead-letter queue once delivered
 * `maxDeliveries` times. The expired worker's token stays stale for good.
 */
export function reclaimBatch(
  tx: Tx,
  settings: {
    readonly maxDeliveries: number;
    readonly batch: number;
    readonly deadLetters: Bound;
    readonly trimBudget: number;
  },
): ReclaimBatch {
  const rows = tx.sql
    .q(
      `SELECT id, status, deliveries, pos FROM tasks
       WHERE lease_until IS NOT NULL AND lease_until <= ? ORDER BY lease_until, id LIMIT ?`,
    )
    .all(tx.now, settings.batch) as Array<{
    id: string;
    status: string;
    deliveries: number;
    pos: number | null;
  }>;
  let reclaimed = 0;
  let poisoned = 0;
  for (const row of rows) {
    if (row.status !== "running") {
      tx.sql.q("UPDATE tasks SET lease_until = NULL WHERE id = ?").run(row.id);
      continue;
    }
    if (settings.maxDeliveries > 0 && row.deliveries >= settings.maxDeliveries) {
      deadLetter(tx, row.id, poisonError(row.deliveries, settings.maxDeliveries));
      flowNodeEnded(tx, row.id);
      poisoned++;
      continue;
    }
    tx.sql
      .q(
        `UPDATE tasks SET status = 'retrying', error = ?, lease_until = NULL, ready = 1,
           pos = ? WHERE id = ?`,
      )
      .run(LAPSED_ERROR, row.pos ?? tx.sql.next("seq"), row.id);
    emitEvent(tx, row.id, "retrying", { error: LAPSED_ERROR, reason: "lease-expired" });
    tx.wake();
    reclaimed++;
  }
  if (poisoned > 0) trimSet(tx, "dead", settings.deadLetters, settings.trimBudget);
  const first = tx.sql
    .q("SELECT lease_until FROM tasks WHERE lease_until IS NOT NULL ORDER BY lease_until LIMIT 1")
    .pluck()
    .get() as number | undefined;
  return {
    reclaimed,
    poisoned,
    more: rows.length === settings.batch,
    nextExpiry: first === undefined ? -1 : Math.max(0, first - tx.now),
  };
}

/** Applies retention: finished records and dead letters past their bounds. */
export function trimBoth(
  tx: Tx,
  retention: Bound,
  deadLetters: Bound,
  budget: number,
): { readonly finished: number; readonly deadLetters: number } {
  return {
    finished: trimSet(tx, "done", retention, budget),
    deadLetters: trimSet(tx, "dead", deadLetters, budget),
  };
}

/**
 * Re-opens dead letters under the same id: queued again at the end of their queue, deliveries
 * reset (and attempts, when asked), a "queued" event with reason "replay". Ids not in the
 * dead-letter queue are skipped. Returns the ids replayed.
 */
export function replay(tx: Tx, ids: readonly string[], resetAttempts: boolean): string[] {
  const replayed: string[] = [];
  for (const id of ids) {
    const row = tx.sql
      .q("SELECT status FROM tasks WHERE id = ? AND dead_seq IS NOT NULL")
      .get(id) as { status: string } | undefined;
    if (row === undefined) continue;
    count(tx, "dead", -1);
    if (row.status !== "failed") {
      tx.sql.q("UPDATE tasks SET dead_seq = NULL WHERE id = ?").run(id);
      continue;
    }
    tx.sql
      .q(
        `UPDATE tasks SET status = 'queued', deliveries = 0,
           attempts = CASE WHEN ? THEN 0 ELSE attempts END, finished_at = NULL,
           lease_until = NULL, run_at = NULL, dead_seq = NULL, ready = 1, pos = ? WHERE id = ?`,
      )
      .run(resetAttempts ? 1 : 0, tx.sql.next("seq"), id);
    emitEvent(tx, id, "queued", { reason: "replay" });
    tx.wake();
    replayed.push(id);
  }
  return replayed;
}

/** Deletes dead letters for good (never a live task). Returns the ids purged. */
export function purge(tx: Tx, ids: readonly string[]): string[] {
  const remove = tx.sql.q("DELETE FROM tasks WHERE id = ? AND dead_seq IS NOT NULL");
  const purged = ids.filter((id) => remove.run(id).changes > 0);
  count(tx, "dead", -purged.length);
  return purged;
}
