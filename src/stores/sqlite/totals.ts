/**
 * Store totals (schema version 2, `totals-schema.ts`): outcome counts per event status, the
 * same for every process sharing the file. `emitEvent` counts each event in the transaction
 * that appends it.
 */
import type { StoreTotals } from "../durable-types.js";
import { totalsFromCounts } from "../totals.js";
import type { Sql } from "./committer.js";

/** Counts one event of `status` in the running transaction (written before its COMMIT). */
export function countEvent(sql: Sql, status: string): void {
  sql.add(`total_${status}`, 1);
}

/** The totals as the store reads them (the last commit). */
export function readTotals(sql: Sql): StoreTotals {
  const rows = sql
    .q("SELECT key, value FROM meta WHERE key LIKE 'total\\_%' ESCAPE '\\'")
    .all() as Array<{
    key: string;
    value: number;
  }>;
  const counts = new Map(rows.map((row) => [row.key.slice("total_".length), Number(row.value)]));
  return totalsFromCounts((status) => counts.get(status) ?? 0);
}
