/**
 * Schema version 2 (store totals): the table of outcome counts per event status, for new files
 * and as the migration from version 1. Reads and writes are in `totals.ts`.
 */
import type { Database } from "better-sqlite3";

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
