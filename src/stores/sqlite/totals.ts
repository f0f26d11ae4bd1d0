/**
 * Schema version 2 (store totals): outcome counts per event status, the same for every
 * process sharing the file. `emitEvent` counts each event in the transaction that appends it.
 */
import type { Database } from "better-sqlite3";
import type { StoreTotals } from "../durable-types.js";
import { totalsFromCounts } from "../totals.js";
import type { Sql } from "./committer.js";

/** The table version 2 adds. */
export const TOTALS_TABLE = `
CREATE TABLE totals (status TEXT PRIMARY KEY, n INTEGER NOT NULL) WITHOUT ROWID;
`;

/** Version 1 to 2: the table, started from the outcomes the file still holds. */
export function migrateToTotals(db: Database): void {
  db.exec(TOTALS_TABLE);
  db.exec(`INSERT INTO totals (status, n)
    SELECT status, count(*) FROM tasks
    WHERE status IN ('succeeded', 'failed', 'cancelled', 'expired') GROUP BY status`);
}

/** The statement that counts one event of `status` (run inside the event's transaction). */
export const COUNT_EVENT_SQL =
  "INSERT INTO totals (status, n) VALUES (?, 1) ON CONFLICT (status) DO UPDATE SET n = n + 1";

/** The totals as the store reads them. */
export function readTotals(sql: Sql): StoreTotals {
  const rows = sql.q("SELECT status, n FROM totals").all() as Array<{ status: string; n: number }>;
  const counts = new Map(rows.map((row) => [row.status, Number(row.n)]));
  return totalsFromCounts((status) => counts.get(status) ?? 0);
}
