/**
 * Migration 5 (store totals): outcome counts per event status, the same for every process.
 * A statement-level trigger on the events feed counts each inserted event in the same
 * transaction, so the totals commit if and only if the events do. Counts are spread over 16
 * rows per status (by the writing backend) so that concurrent workers do not queue on one
 * row lock; a read sums them.
 */
import type { SchemaNames } from "./names.js";

/** Rows per status; a writer picks one by its backend pid. */
export const TOTALS_SHARDS = 16;

export function totalsV5({ s }: SchemaNames): string {
  return `
CREATE TABLE ${s}.totals (
  status text NOT NULL,
  shard  integer NOT NULL,
  n      bigint NOT NULL DEFAULT 0,
  PRIMARY KEY (status, shard)
);

CREATE FUNCTION ${s}.count_events() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  INSERT INTO ${s}.totals AS t (status, shard, n)
    SELECT status, pg_backend_pid() % ${TOTALS_SHARDS}, count(*) FROM new_events GROUP BY status
  ON CONFLICT (status, shard) DO UPDATE SET n = t.n + EXCLUDED.n;
  RETURN NULL;
END
$$;

CREATE TRIGGER events_totals AFTER INSERT ON ${s}.events
  REFERENCING NEW TABLE AS new_events FOR EACH STATEMENT EXECUTE FUNCTION ${s}.count_events();

-- A store that already has history starts from the outcomes it still holds.
INSERT INTO ${s}.totals (status, shard, n)
  SELECT status, 0, count(*) FROM ${s}.tasks
  WHERE status IN ('succeeded', 'failed', 'cancelled', 'expired') GROUP BY status;
`;
}

/** The totals, summed over their shards. */
export function readTotalsSql({ s }: SchemaNames): string {
  return `SELECT status, sum(n)::bigint AS n FROM ${s}.totals GROUP BY status`;
}
