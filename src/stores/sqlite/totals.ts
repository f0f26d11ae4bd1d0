/**
 * Store totals (schema version 2, `totals-schema.ts`): outcome counts per event status, the
 * same for every process sharing the file. `emitEvent` counts each event in the transaction
 * that appends it.
 */
import type { StoreTotals } from "../durable-types.js";
import { totalsFromCounts } from "../totals.js";
import type { Sql } from "./committer.js";

/** The statement that counts one event of `status` (run inside the event's transaction). */
export const COUNT_EVENT_SQL =
  "INSERT INTO totals (status, n) VALUES (?, 1) ON CONFLICT (status) DO UPDATE SET n = n + 1";

/** The totals as the store reads them. */
export function readTotals(sql: Sql): StoreTotals {
  const rows = sql.q("SELECT status, n FROM totals").all() as Array<{ status: string; n: number }>;
  const counts = new Map(rows.map((row) => [row.status, Number(row.n)]));
  return totalsFromCounts((status) => counts.get(status) ?? 0);
}
