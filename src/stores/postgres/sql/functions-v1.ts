/**
 * Migration 1, functions: every state change is one function call, so it is one statement and
 * one round trip, atomic, timed by the database clock, with its event and its NOTIFY in the
 * same transaction. They are the SQL counterparts of the Redis store's Lua scripts and keep the
 * same return codes (see `codes.ts`):
 *   > 0 a time (ms), -1 missing, -2 superseded token, -3 cancelled, -4 not running.
 * Every status written is an edge of `lifecycle/states.ts` (checked by
 * `test/stores/postgres/transitions.test.ts`).
 */
import type { SchemaNames } from "./names.js";
import { stepV1 } from "./step-v1.js";

/** Every function but the step (`step-v1.ts`). */
export function functionsV1(names: SchemaNames): string {
  const { s } = names;
  const work = `'${names.workChannel}'`;
  const events = `'${names.eventsChannel}'`;
  return `
-- Why a write under token p_given is refused (NULL: the caller holds the lease). A repeated
-- write of the same kind under the same token answers its first result again.
CREATE FUNCTION ${s}.refusal(p_status text, p_token bigint, p_outcome text, p_given bigint,
  p_kind text) RETURNS bigint LANGUAGE sql IMMUTABLE AS $$
  SELECT CASE
    WHEN p_status IS NULL THEN -1
    WHEN p_token IS DISTINCT FROM p_given THEN -2
    WHEN p_kind IS NOT NULL AND p_outcome LIKE p_kind || ':%' THEN split_part(p_outcome, ':', 2)::bigint
    WHEN p_status = 'cancelled' THEN -3
    WHEN p_status <> 'running' THEN -4
  END $$;

-- Stores tasks, all or none. p_tasks: one array per task (see encode.ts). Returns one
-- [code, id, status] per task: 1 created, 0 already there (same key or id, same fingerprint).
-- A conflicting key (-6) or id (-7) raises SQLSTATE TM001, so nothing of the call is kept.
CREATE FUNCTION ${s}.enqueue_many(p_tasks jsonb) RETURNS jsonb LANGUAGE plpgsql AS $$
DECLARE
  v_now bigint := ${s}.now_ms();
  v_out jsonb := '[]';
  v_i integer := 0;
  v_queues text[] := '{}';
  t jsonb;
  v_id text; v_idem text; v_fp text; v_run bigint; v_exp bigint; v_status text;
  h_id text; h_fp text; h_status text;
BEGIN
  FOR t IN SELECT value FROM jsonb_array_elements(p_tasks) LOOP
    v_i := v_i + 1;
    v_id := t->>0;
    v_idem := nullif(t->>9, '');
    v_fp := coalesce(t->>10, '');
    h_id := NULL;
    IF v_idem IS NOT NULL THEN
      SELECT id, coalesce(fp, ''), status INTO h_id, h_fp, h_status
        FROM ${s}.tasks WHERE idem_key = v_idem;
    END IF;
    IF h_id IS NULL THEN
      v_run := nullif(t->>6, '')::bigint;
      IF v_run IS NULL AND t->>5 <> '' THEN v_run := v_now + (t->>5)::bigint; END IF;
      v_exp := nullif(t->>8, '')::bigint;
      IF v_exp IS NULL AND t->>7 <> '' THEN v_exp := v_now + (t->>7)::bigint; END IF;
      IF v_run IS NOT NULL AND v_run > v_now THEN v_status := 'scheduled';
      ELSE v_status := 'queued'; v_run := NULL; END IF;
      INSERT INTO ${s}.tasks (id, name, queue, status, priority, seq, payload, created_at, run_at,
        expires_at, idem_key, fp, max_retries, timeout_ms, retry, meta)
      VALUES (v_id, t->>1, t->>2, v_status, (t->>4)::double precision, nextval('${s}.seq'),
        nullif(t->>3, ''), v_now, v_run, v_exp, v_idem, nullif(v_fp, ''),
        nullif(t->>11, '')::integer, nullif(t->>12, '')::bigint, nullif(t->>13, ''),
        nullif(t->>14, ''))
      ON CONFLICT DO NOTHING;
      IF FOUND THEN
        v_out := v_out || jsonb_build_array(jsonb_build_array(1, v_id, v_status));
        IF NOT (t->>2 = ANY(v_queues)) THEN v_queues := v_queues || (t->>2); END IF;
        CONTINUE;
      END IF;
      -- Taken meanwhile (a concurrent submit committed first), by key or by id.
      IF v_idem IS NOT NULL THEN
        SELECT id, coalesce(fp, ''), status INTO h_id, h_fp, h_status
          FROM ${s}.tasks WHERE idem_key = v_idem;
      END IF;
      IF h_id IS NULL THEN
        SELECT id, coalesce(fp, ''), status INTO h_id, h_fp, h_status
          FROM ${s}.tasks WHERE id = v_id;
        IF h_id IS NULL THEN
          RAISE EXCEPTION USING ERRCODE = 'TM002', MESSAGE = 'taskmill: enqueue conflict vanished';
        END IF;
        IF h_fp <> v_fp THEN
          RAISE EXCEPTION USING ERRCODE = 'TM001', MESSAGE = 'taskmill: id conflict',
            DETAIL = jsonb_build_array(-7, v_i, h_id)::text;
        END IF;
        v_out := v_out || jsonb_build_array(jsonb_build_array(0, h_id, h_status));
        CONTINUE;
      END IF;
    END IF;
    IF h_fp <> v_fp THEN
      RAISE EXCEPTION USING ERRCODE = 'TM001', MESSAGE = 'taskmill: idempotency conflict',
        DETAIL = jsonb_build_array(-6, v_i, h_id)::text;
    END IF;
    v_out := v_out || jsonb_build_array(jsonb_build_array(0, h_id, h_status));
  END LOOP;
  IF cardinality(v_queues) > 0 THEN
    INSERT INTO ${s}.queues (name) SELECT unnest(v_queues) ON CONFLICT DO NOTHING;
    PERFORM pg_notify(${work}, q) FROM unnest(v_queues) AS q;
  END IF;
  RETURN v_out;
END $$;

-- A retry: status retrying, due at p_run_at (or after p_delay_ms), the error kept, an event.
CREATE FUNCTION ${s}.nack(p_id text, p_token bigint, p_delay_ms bigint, p_run_at bigint,
  p_error text) RETURNS bigint LANGUAGE plpgsql AS $$
DECLARE
  v_now bigint := ${s}.now_ms();
  v_run bigint;
  t ${s}.tasks;
  v_code bigint;
BEGIN
  SELECT * INTO t FROM ${s}.tasks WHERE id = p_id FOR UPDATE;
  v_code := ${s}.refusal(t.status, t.token, t.outcome, p_token, 'nack');
  IF v_code IS NOT NULL THEN RETURN v_code; END IF;
  v_run := coalesce(p_run_at, v_now + coalesce(p_delay_ms, 0));
  UPDATE ${s}.tasks SET status = 'retrying', run_at = v_run, error = p_error, deliveries = 0,
    lease_until = NULL, outcome = 'nack:' || v_run, claim_request = NULL
  WHERE id = p_id;
  INSERT INTO ${s}.events (task_id, name, queue, status, attempts, at, created_at, started_at,
    run_at, error)
  VALUES (t.id, t.name, t.queue, 'retrying', t.attempts, v_now, t.created_at, t.started_at, v_run,
    p_error);
  PERFORM pg_notify(${events}, '');
  PERFORM pg_notify(${work}, t.queue);
  RETURN v_run;
END $$;

-- A failure for good: status failed (the dead-letter queue), the error kept, an event.
CREATE FUNCTION ${s}.fail(p_id text, p_token bigint, p_error text) RETURNS bigint
LANGUAGE plpgsql AS $$
DECLARE
  v_now bigint := ${s}.now_ms();
  t ${s}.tasks;
  v_code bigint;
BEGIN
  SELECT * INTO t FROM ${s}.tasks WHERE id = p_id FOR UPDATE;
  v_code := ${s}.refusal(t.status, t.token, t.outcome, p_token, 'fail');
  IF v_code IS NOT NULL THEN RETURN v_code; END IF;
  UPDATE ${s}.tasks SET status = 'failed', finished_at = v_now, error = p_error,
    lease_until = NULL, run_at = NULL, outcome = 'fail:' || v_now, claim_request = NULL
  WHERE id = p_id;
  INSERT INTO ${s}.events (task_id, name, queue, status, attempts, at, created_at, started_at,
    finished_at, error)
  VALUES (t.id, t.name, t.queue, 'failed', t.attempts, v_now, t.created_at, t.started_at, v_now,
    p_error);
  PERFORM pg_notify(${events}, '');
  RETURN v_now;
END $$;

-- Extends leases; per lease the new expiry or its refusal code.
CREATE FUNCTION ${s}.renew_many(p_ids text[], p_tokens bigint[], p_lease_ms bigint)
RETURNS jsonb LANGUAGE plpgsql AS $$
DECLARE
  v_until bigint := ${s}.now_ms() + p_lease_ms;
  v_out jsonb;
BEGIN
  WITH a AS (SELECT * FROM unnest(p_ids, p_tokens) WITH ORDINALITY AS a(id, token, ord)),
  u AS (
    UPDATE ${s}.tasks t SET lease_until = v_until
    FROM a WHERE t.id = a.id AND t.token = a.token AND t.status = 'running' RETURNING t.id)
  SELECT coalesce(jsonb_agg(CASE WHEN u.id IS NOT NULL THEN v_until
      ELSE coalesce(${s}.refusal(t.status, t.token, NULL, a.token, NULL), -4) END ORDER BY a.ord), '[]')
  INTO v_out
  FROM a LEFT JOIN u ON u.id = a.id LEFT JOIN ${s}.tasks t ON t.id = a.id;
  RETURN v_out;
END $$;

-- Cancels a task not yet ended: 1 was waiting, 2 was running, 0 already ended, -1 unknown.
CREATE FUNCTION ${s}.cancel(p_id text, p_error text) RETURNS integer LANGUAGE plpgsql AS $$
DECLARE
  v_now bigint := ${s}.now_ms();
  t ${s}.tasks;
  v_code integer;
BEGIN
  SELECT * INTO t FROM ${s}.tasks WHERE id = p_id FOR UPDATE;
  IF NOT FOUND THEN RETURN -1; END IF;
  IF t.status IN ('queued','scheduled','retrying') THEN v_code := 1;
  ELSIF t.status = 'running' THEN v_code := 2;
  ELSE RETURN 0; END IF;
  UPDATE ${s}.tasks SET status = 'cancelled', finished_at = v_now, error = p_error,
    run_at = NULL, lease_until = NULL
  WHERE id = p_id;
  INSERT INTO ${s}.events (task_id, name, queue, status, attempts, at, created_at, started_at,
    finished_at, error)
  VALUES (t.id, t.name, t.queue, 'cancelled', t.attempts, v_now, t.created_at, t.started_at, v_now,
    p_error);
  PERFORM pg_notify(${events}, '');
  RETURN v_code;
END $$;

-- Expired leases go back to their place in their queue (status retrying), or to the
-- dead-letter queue once delivered p_max_deliveries times. Rows locked by a transaction in
-- flight (a completeWithin not yet committed) are skipped, never waited for.
CREATE FUNCTION ${s}.reclaim(p_max_deliveries integer, p_batch integer) RETURNS jsonb
LANGUAGE plpgsql AS $$
DECLARE
  v_now bigint := ${s}.now_ms();
  v_c integer; v_back integer; v_poisoned integer;
  v_next bigint;
  v_lapsed text := '{"name":"LeaseExpiredError","message":"The worker''s lease expired before it reported an outcome","code":"ERR_LEASE_EXPIRED"}';
BEGIN
  WITH cand AS MATERIALIZED (
    SELECT id, (p_max_deliveries > 0 AND deliveries >= p_max_deliveries) AS p
    FROM ${s}.tasks WHERE status = 'running' AND lease_until <= v_now
    ORDER BY lease_until LIMIT p_batch FOR UPDATE SKIP LOCKED),
  poi AS (
    UPDATE ${s}.tasks t SET status = 'failed', finished_at = v_now, lease_until = NULL,
      run_at = NULL, claim_request = NULL, error = json_build_object('name', 'PoisonTaskError',
        'message', 'The task was delivered ' || t.deliveries
          || ' times without an outcome (maxDeliveries ' || p_max_deliveries || ')',
        'code', 'ERR_POISON')::text
    FROM cand c WHERE t.id = c.id AND c.p RETURNING t.*),
  back AS (
    UPDATE ${s}.tasks t SET status = 'retrying', error = v_lapsed, lease_until = NULL,
      claim_request = NULL
    FROM cand c WHERE t.id = c.id AND NOT c.p RETURNING t.*),
  ev AS (
    INSERT INTO ${s}.events (task_id, name, queue, status, attempts, at, created_at, started_at,
      finished_at, error, reason)
    SELECT id, name, queue, 'failed', attempts, v_now, created_at, started_at, v_now, error, NULL
    FROM poi
    UNION ALL
    SELECT id, name, queue, 'retrying', attempts, v_now, created_at, started_at, NULL, error,
      'lease-expired' FROM back)
  SELECT (SELECT count(*) FROM cand), (SELECT count(*) FROM back), (SELECT count(*) FROM poi)
  INTO v_c, v_back, v_poisoned;
  IF v_back + v_poisoned > 0 THEN PERFORM pg_notify(${events}, ''); END IF;
  IF v_back > 0 THEN PERFORM pg_notify(${work}, ''); END IF;
  SELECT min(lease_until) INTO v_next FROM ${s}.tasks WHERE status = 'running';
  RETURN jsonb_build_object('reclaimed', v_back, 'poisoned', v_poisoned,
    'more', v_c = p_batch, 'nextExpiryInMs',
    CASE WHEN v_next IS NULL THEN NULL ELSE greatest(0, v_next - v_now) END);
END $$;

-- Dead letters back to their queue under the same id (at its back), with a "queued" event.
CREATE FUNCTION ${s}.dlq_replay(p_ids text[], p_reset boolean) RETURNS text[]
LANGUAGE plpgsql AS $$
DECLARE
  v_now bigint := ${s}.now_ms();
  v_ids text[];
BEGIN
  WITH r AS (
    UPDATE ${s}.tasks t SET status = 'queued', deliveries = 0,
      attempts = CASE WHEN p_reset THEN 0 ELSE t.attempts END,
      finished_at = NULL, lease_until = NULL, run_at = NULL, seq = nextval('${s}.seq')
    WHERE t.id = ANY(p_ids) AND t.status = 'failed' RETURNING t.*),
  ev AS (
    INSERT INTO ${s}.events (task_id, name, queue, status, attempts, at, created_at, started_at,
      reason)
    SELECT id, name, queue, 'queued', attempts, v_now, created_at, started_at, 'replay' FROM r)
  SELECT coalesce(array_agg(id), '{}') INTO v_ids FROM r;
  IF cardinality(v_ids) > 0 THEN
    PERFORM pg_notify(${events}, '');
    PERFORM pg_notify(${work}, '');
  END IF;
  RETURN v_ids;
END $$;

-- Evicts finished records and dead letters past their bounds (age, count), at most p_budget
-- rows of each, and events beyond p_events_keep; returns [finished, deadLetters].
CREATE FUNCTION ${s}.trim(p_ttl_ms bigint, p_max_entries bigint, p_dead_ttl_ms bigint,
  p_dead_max bigint, p_budget integer, p_events_keep bigint) RETURNS integer[]
LANGUAGE plpgsql AS $$
DECLARE
  v_now bigint := ${s}.now_ms();
  c_at bigint; c_id text;
  v_f integer := 0; v_d integer := 0;
  v_max bigint;
BEGIN
  -- The newest record past the count bound: it and older ones go (ties broken by id).
  IF p_max_entries >= 0 THEN
    SELECT finished_at, id INTO c_at, c_id FROM ${s}.tasks
    WHERE status IN ('succeeded','cancelled','expired')
    ORDER BY finished_at DESC, id DESC OFFSET p_max_entries LIMIT 1;
  END IF;
  IF c_at IS NOT NULL OR p_ttl_ms > 0 THEN
    DELETE FROM ${s}.tasks WHERE id IN (
      SELECT id FROM ${s}.tasks WHERE status IN ('succeeded','cancelled','expired')
        AND ((finished_at, id) <= (c_at, c_id) OR (p_ttl_ms > 0 AND finished_at <= v_now - p_ttl_ms))
      ORDER BY finished_at, id LIMIT p_budget FOR UPDATE SKIP LOCKED);
    GET DIAGNOSTICS v_f = ROW_COUNT;
  END IF;
  c_at := NULL;
  IF p_dead_max >= 0 THEN
    SELECT finished_at, id INTO c_at, c_id FROM ${s}.tasks WHERE status = 'failed'
    ORDER BY finished_at DESC, id DESC OFFSET p_dead_max LIMIT 1;
  END IF;
  IF c_at IS NOT NULL OR p_dead_ttl_ms > 0 THEN
    DELETE FROM ${s}.tasks WHERE id IN (
      SELECT id FROM ${s}.tasks WHERE status = 'failed'
        AND ((finished_at, id) <= (c_at, c_id)
          OR (p_dead_ttl_ms > 0 AND finished_at <= v_now - p_dead_ttl_ms))
      ORDER BY finished_at, id LIMIT p_budget FOR UPDATE SKIP LOCKED);
    GET DIAGNOSTICS v_d = ROW_COUNT;
  END IF;
  SELECT max(id) INTO v_max FROM ${s}.events;
  IF v_max IS NOT NULL THEN
    DELETE FROM ${s}.events WHERE id IN (
      SELECT id FROM ${s}.events WHERE id <= v_max - p_events_keep ORDER BY id LIMIT p_budget);
  END IF;
  RETURN ARRAY[v_f, v_d];
END $$;
${stepV1(names)}
`;
}
