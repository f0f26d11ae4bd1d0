/**
 * Shared pause on SQLite: a `meta` row `paused:<queue>` per queue paused for every process on
 * the file (no schema change: `meta` is a key-value table). The step leaves those queues out
 * inside its own transaction (`claim.ts`), so a step that commits after a pause takes nothing
 * from the queue.
 */
import type { Sql, Tx } from "./committer.js";

const PREFIX = "paused:";

/** Pauses or resumes `queue`; a resume wakes the waiting workers. */
export function setPaused(tx: Tx, queue: string, paused: boolean): void {
  if (paused)
    tx.sql
      .q("INSERT INTO meta (key, value) VALUES (?, ?) ON CONFLICT (key) DO NOTHING")
      .run(PREFIX + queue, tx.now);
  else {
    tx.sql.q("DELETE FROM meta WHERE key = ?").run(PREFIX + queue);
    tx.wake();
  }
}

/** `queues` without the paused ones. */
export function unpaused(tx: Tx, queues: readonly string[]): string[] {
  const isPaused = tx.sql.q("SELECT 1 FROM meta WHERE key = ?").pluck();
  return queues.filter((queue) => isPaused.get(PREFIX + queue) === undefined);
}

/** The queues paused in the store, sorted by name. */
export function pausedQueues(sql: Sql): string[] {
  return (
    sql
      .q("SELECT key FROM meta WHERE key > ? AND key < ? ORDER BY key")
      .pluck()
      .all(PREFIX, "paused;") as string[]
  ).map((key) => key.slice(PREFIX.length));
}
