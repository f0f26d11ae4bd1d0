/**
 * Schema version 5 (store totals): outcome counts per event status, kept as counter rows of
 * `meta` (`total_<status>`), so they ride on the transaction's counters (read once, written
 * once before COMMIT, undone with a rolled-back operation). Reads and writes are in
 * `totals.ts`.
 */
import type { Database } from "better-sqlite3";

/** The event statuses counted. */
export const TOTAL_STATUSES = ["succeeded", "failed", "cancelled", "expired", "retrying", "queued"];

/** The counter rows a new file starts with. */
const TOTALS_ROWS = `
INSERT INTO meta (key, value) VALUES ${TOTAL_STATUSES.map((s) => `('total_${s}', 0)`).join(", ")};
`;

/** Version 4 to 5: the counter rows, started from the outcomes the file still holds. */
export function migrateToTotals(db: Database): void {
  db.exec(TOTALS_ROWS.replace("INSERT INTO", "INSERT OR IGNORE INTO"));
  // The outcomes still held (earlier history was not counted).
  db.exec(`UPDATE meta SET value = (SELECT count(*) FROM tasks
    WHERE status = substr(meta.key, 7)) WHERE key IN
    ('total_succeeded', 'total_failed', 'total_cancelled', 'total_expired')`);
}
