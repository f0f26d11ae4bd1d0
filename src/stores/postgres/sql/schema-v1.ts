/**
 * Migration 1, tables and indexes. Times are epoch milliseconds of the database clock
 * (`now_ms()`, from `clock_timestamp()`), stored as bigint so the store's times are exactly the
 * port's. JSON values (payload, result, progress, error, retry, meta) are kept as the text
 * the client encoded, never re-serialised.
 *
 * Every index is partial on the state it serves, so finished rows (kept for `get`, `list` and
 * idempotency until retention evicts them) never enter the claim's index: a million retained
 * rows do not slow a claim.
 */
import type { SchemaNames } from "./names.js";

export function schemaV1({ s }: SchemaNames): string {
  return `
CREATE FUNCTION ${s}.now_ms() RETURNS bigint LANGUAGE sql VOLATILE AS
  $$ SELECT floor(extract(epoch FROM clock_timestamp()) * 1000)::bigint $$;

-- Fencing tokens: every claim takes the next value, so tokens only grow.
CREATE SEQUENCE ${s}.fence;
-- FIFO order within a priority; a reclaimed task keeps its value (its place in the queue).
CREATE SEQUENCE ${s}.seq;

CREATE TABLE ${s}.tasks (
  id            text PRIMARY KEY,
  name          text NOT NULL,
  queue         text NOT NULL,
  status        text NOT NULL CHECK (status IN
                  ('scheduled','queued','running','retrying','succeeded','failed','cancelled','expired')),
  priority      double precision NOT NULL DEFAULT 0,
  seq           bigint NOT NULL,
  payload       text,
  attempts      integer NOT NULL DEFAULT 0,
  deliveries    integer NOT NULL DEFAULT 0,
  created_at    bigint NOT NULL,
  run_at        bigint,
  expires_at    bigint,
  started_at    bigint,
  finished_at   bigint,
  token         bigint,
  lease_until   bigint,
  -- "ack:<ms>", "nack:<ms>" or "fail:<ms>": the outcome recorded under the current token, so a
  -- write retried after a lost reply gets its first answer again.
  outcome       text,
  -- The request id of the claim that took the current lease (its reply may have been lost).
  claim_request text,
  max_retries   integer,
  timeout_ms    bigint,
  retry         text,
  meta          text,
  idem_key      text,
  fp            text,
  value         text,
  progress      text,
  error         text
) WITH (fillfactor = 80);

-- The claim: ready tasks of a queue, best first (priority, then FIFO).
CREATE INDEX tasks_ready ON ${s}.tasks (queue, priority DESC, seq)
  WHERE status IN ('queued','retrying') AND run_at IS NULL;
-- Promotion of delayed tasks and retries when due.
CREATE INDEX tasks_delayed ON ${s}.tasks (run_at)
  WHERE status IN ('scheduled','retrying') AND run_at IS NOT NULL;
-- The reaper: leases by expiry.
CREATE INDEX tasks_leases ON ${s}.tasks (lease_until) WHERE status = 'running';
-- Retention and listing of finished records, oldest first.
CREATE INDEX tasks_finished ON ${s}.tasks (finished_at, id)
  WHERE status IN ('succeeded','cancelled','expired');
-- The dead-letter queue, oldest failure first.
CREATE INDEX tasks_dead ON ${s}.tasks (finished_at, id) WHERE status = 'failed';
CREATE UNIQUE INDEX tasks_idem ON ${s}.tasks (idem_key) WHERE idem_key IS NOT NULL;

-- Every queue ever used (queue depths list them).
CREATE TABLE ${s}.queues (name text PRIMARY KEY);

-- The events feed: one row per terminal transition, retry, reclaim and replay, written in the
-- same transaction as the change. xid is the writing transaction's id: readers only read rows
-- of transactions older than every transaction still running (see feed.ts), so an event that
-- commits late is never skipped.
CREATE TABLE ${s}.events (
  id          bigserial PRIMARY KEY,
  xid         bigint NOT NULL DEFAULT (pg_current_xact_id()::text::bigint),
  task_id     text NOT NULL,
  name        text NOT NULL,
  queue       text NOT NULL,
  status      text NOT NULL,
  attempts    integer NOT NULL,
  at          bigint NOT NULL,
  created_at  bigint,
  started_at  bigint,
  finished_at bigint,
  run_at      bigint,
  value       text,
  error       text,
  reason      text
);
CREATE INDEX events_position ON ${s}.events (xid, id);

-- Leader locks (the cron scheduler's): a lease row per name, on the database clock.
CREATE TABLE ${s}.leaders (name text PRIMARY KEY, owner text NOT NULL, until_ms bigint NOT NULL);

-- The global rate bucket shared by every process (one row, locked by the claim).
CREATE TABLE ${s}.rate (id integer PRIMARY KEY, tokens double precision NOT NULL, ts bigint NOT NULL);
`;
}
