/**
 * Migration 1, the worker's step: acks (each fenced by its token) and a claim of up to `max`
 * ready tasks with leases and fresh fencing tokens, in one function call (one round trip).
 * Return codes as in `functions-v1.ts`.
 */
import type { SchemaNames } from "./names.js";

/**
 * The JSON array a claim returns per leased task (positions read by `codec.ts`); from
 * migration 4 (`flows-v4.ts`) on, a flow node's dependencies' outcomes (`deps`) come last.
 */
export function claimEntry(t: string, withDeps = false): string {
  return `jsonb_build_array(${t}.id, ${t}.attempts, ${t}.deliveries, ${t}.started_at, ${t}.token,
    ${t}.lease_until, ${t}.created_at, ${t}.expires_at, ${t}.payload, ${t}.name, ${t}.queue,
    ${t}.priority, ${t}.max_retries, ${t}.timeout_ms, ${t}.retry, ${t}.meta, ${t}.idem_key, ${t}.error${withDeps ? `, ${t}.deps` : ""})`;
}

/** One claim round over the ready rows matching `queueCondition`. */
function claimRound(s: string, queueCondition: string, withDeps: boolean): string {
  return `
    WITH cand AS MATERIALIZED (
      SELECT id,
        (status = 'queued' AND started_at IS NULL AND expires_at IS NOT NULL
          AND expires_at <= v_now) AS x,
        (p_max_deliveries > 0 AND deliveries >= p_max_deliveries) AS p
      FROM ${s}.tasks
      WHERE ${queueCondition} AND status IN ('queued','retrying') AND run_at IS NULL
      ORDER BY priority DESC, seq
      LIMIT v_n
      FOR UPDATE SKIP LOCKED),
    exp AS (
      UPDATE ${s}.tasks t SET status = 'expired', finished_at = v_now, error = v_expired_error
      FROM cand c WHERE t.id = c.id AND c.x RETURNING t.*),
    poi AS (
      UPDATE ${s}.tasks t SET status = 'failed', finished_at = v_now, lease_until = NULL,
        run_at = NULL, error = json_build_object('name', 'PoisonTaskError', 'message',
          'The task was delivered ' || t.deliveries || ' times without an outcome (maxDeliveries '
          || p_max_deliveries || ')', 'code', 'ERR_POISON')::text
      FROM cand c WHERE t.id = c.id AND NOT c.x AND c.p RETURNING t.*),
    lea AS (
      UPDATE ${s}.tasks t SET status = 'running', token = nextval('${s}.fence'),
        lease_until = v_lease, deliveries = t.deliveries + 1, attempts = t.attempts + 1,
        started_at = coalesce(t.started_at, v_now), outcome = NULL,
        claim_request = nullif(p_request, '')
      FROM cand c WHERE t.id = c.id AND NOT c.x AND NOT c.p RETURNING t.*),
    ev AS (
      INSERT INTO ${s}.events (task_id, name, queue, status, attempts, at, created_at, started_at,
        finished_at, error)
      SELECT id, name, queue, status, attempts, v_now, created_at, started_at, v_now, error FROM exp
      UNION ALL
      SELECT id, name, queue, status, attempts, v_now, created_at, started_at, v_now, error FROM poi)
    SELECT (SELECT count(*) FROM cand), (SELECT count(*) FROM exp), (SELECT count(*) FROM poi),
      (SELECT coalesce(jsonb_agg(${claimEntry("lea", withDeps)} ORDER BY lea.priority DESC, lea.seq), '[]')
       FROM lea)
    INTO v_c, v_x, v_p, v_batch;`;
}

export function stepV1(names: SchemaNames, withDeps = false): string {
  const { s } = names;
  const work = `'${names.workChannel}'`;
  const events = `'${names.eventsChannel}'`;
  return `
-- A worker's round trip: acks (each fenced by its token), then a claim of up to p_max ready
-- tasks of p_queues with leases and fresh fencing tokens (see store.ts for the reply).
CREATE FUNCTION ${s}.step(p_ack_ids text[], p_ack_tokens bigint[], p_ack_values text[],
  p_queues text[], p_max integer, p_lease_ms bigint, p_max_deliveries integer,
  p_promote integer, p_rate double precision, p_burst double precision, p_request text,
  p_unanswered text[]) RETURNS jsonb LANGUAGE plpgsql AS $$
DECLARE
  v_now bigint := ${s}.now_ms();
  v_lease bigint;
  v_acks jsonb := '[]';
  v_tasks jsonb := '[]';
  v_batch jsonb;
  v_recovered integer := 0;
  v_fresh integer := 0;
  v_allowed integer;
  v_tokens double precision;
  v_ts bigint;
  v_poisoned integer := 0;
  v_expired integer := 0;
  v_skips integer := 100;
  v_n integer; v_c integer; v_x integer; v_p integer;
  v_rate_wait bigint := 0;
  v_next bigint;
  v_expired_error text := '{"name":"ExpiredError","message":"The task expired before it could start","code":"ERR_EXPIRED"}';
BEGIN
  v_lease := v_now + p_lease_ms;
  IF cardinality(p_ack_ids) > 0 THEN
    -- One statement: the acks, their events, and per ack its finish time or refusal code (the
    -- LEFT JOIN reads the rows as they were before the update: the refused ones).
    WITH a AS (SELECT * FROM unnest(p_ack_ids, p_ack_tokens, p_ack_values) WITH ORDINALITY
      AS a(id, token, value, ord)),
    done AS (
      UPDATE ${s}.tasks t SET status = 'succeeded', outcome = 'ack:' || v_now, lease_until = NULL,
        finished_at = v_now, error = NULL, value = a.value, claim_request = NULL
      FROM a WHERE t.id = a.id AND t.token = a.token AND t.status = 'running' RETURNING t.*),
    ev AS (
      INSERT INTO ${s}.events (task_id, name, queue, status, attempts, at, created_at, started_at,
        finished_at, value)
      SELECT id, name, queue, 'succeeded', attempts, v_now, created_at, started_at, v_now, value
      FROM done)
    SELECT coalesce(jsonb_agg(CASE WHEN d.id IS NOT NULL THEN v_now
        ELSE coalesce(${s}.refusal(t.status, t.token, t.outcome, a.token, 'ack'), -4) END
        ORDER BY a.ord), '[]'),
      count(d.id)
    INTO v_acks, v_n
    FROM a LEFT JOIN done d ON d.id = a.id LEFT JOIN ${s}.tasks t ON t.id = a.id;
    IF v_n > 0 THEN PERFORM pg_notify(${events}, ''); END IF;
  END IF;
  IF p_max <= 0 THEN
    RETURN jsonb_build_object('now', v_now, 'rateWaitMs', 0, 'poisoned', 0, 'expired', 0,
      'tasks', '[]'::jsonb, 'acks', v_acks);
  END IF;

  -- Leases of earlier calls whose reply never arrived: returned again, no delivery counted.
  IF cardinality(p_unanswered) > 0 THEN
    WITH r AS (
      UPDATE ${s}.tasks t SET lease_until = v_lease, claim_request = nullif(p_request, '')
      WHERE t.id IN (SELECT id FROM ${s}.tasks WHERE status = 'running'
        AND claim_request = ANY(p_unanswered) ORDER BY priority DESC, seq LIMIT p_max
        FOR UPDATE SKIP LOCKED)
      RETURNING t.*)
    SELECT count(*), coalesce(jsonb_agg(${claimEntry("r", withDeps)} ORDER BY r.priority DESC, r.seq), '[]')
    INTO v_recovered, v_tasks FROM r;
  END IF;

  -- Due delayed tasks and retries become ready (in due order, at the back of their queue).
  WITH due AS (
    SELECT id FROM ${s}.tasks
    WHERE status IN ('scheduled','retrying') AND run_at IS NOT NULL AND run_at <= v_now
    ORDER BY run_at LIMIT p_promote FOR UPDATE SKIP LOCKED)
  UPDATE ${s}.tasks t SET run_at = NULL, seq = nextval('${s}.seq'),
    status = CASE WHEN t.status = 'scheduled' THEN 'queued' ELSE t.status END
  FROM due WHERE t.id = due.id;
  GET DIAGNOSTICS v_n = ROW_COUNT;
  IF v_n > 0 THEN PERFORM pg_notify(${work}, ''); END IF;

  -- The global rate bucket, refilled from the database clock, never above burst.
  v_allowed := p_max - v_recovered;
  IF p_rate > 0 THEN
    INSERT INTO ${s}.rate (id, tokens, ts) VALUES (1, p_burst, v_now) ON CONFLICT DO NOTHING;
    SELECT tokens, ts INTO v_tokens, v_ts FROM ${s}.rate WHERE id = 1 FOR UPDATE;
    IF v_now > v_ts THEN v_tokens := v_tokens + (v_now - v_ts) * p_rate / 1000; END IF;
    v_tokens := least(p_burst, v_tokens);
    -- The epsilon absorbs float dust so a token earned "exactly now" counts.
    v_allowed := least(v_allowed, floor(v_tokens + 1e-9)::integer);
  END IF;

  -- Claim rounds: expired and poison candidates do not count, but are bounded.
  WHILE v_fresh < v_allowed AND v_skips > 0 LOOP
    v_n := v_allowed - v_fresh;
    IF cardinality(p_queues) = 1 THEN
      ${claimRound(s, "queue = p_queues[1]", withDeps)}
    ELSE
      ${claimRound(s, "queue = ANY(p_queues)", withDeps)}
    END IF;
    v_tasks := v_tasks || v_batch;
    v_fresh := v_fresh + v_c - v_x - v_p;
    v_expired := v_expired + v_x;
    v_poisoned := v_poisoned + v_p;
    v_skips := v_skips - v_x - v_p;
    EXIT WHEN v_c < v_n OR v_x + v_p = 0;
  END LOOP;
  IF v_expired + v_poisoned > 0 THEN PERFORM pg_notify(${events}, ''); END IF;

  IF p_rate > 0 THEN
    v_tokens := v_tokens - v_fresh;
    UPDATE ${s}.rate SET tokens = v_tokens, ts = v_now WHERE id = 1;
    IF v_fresh = v_allowed AND v_allowed < p_max - v_recovered AND v_tokens < 1
      AND EXISTS (SELECT 1 FROM ${s}.tasks WHERE queue = ANY(p_queues)
        AND status IN ('queued','retrying') AND run_at IS NULL) THEN
      v_rate_wait := ceil((1 - v_tokens) * 1000 / p_rate);
    END IF;
  END IF;

  IF v_recovered + v_fresh < p_max THEN
    SELECT min(run_at) INTO v_next FROM ${s}.tasks
    WHERE status IN ('scheduled','retrying') AND run_at IS NOT NULL;
  END IF;
  RETURN jsonb_build_object('now', v_now, 'nextDue', v_next, 'rateWaitMs', v_rate_wait,
    'poisoned', v_poisoned, 'expired', v_expired, 'tasks', v_tasks, 'acks', v_acks);
END $$;

`;
}
