/**
 * Migration 4, flows. A node is a task row with `flow_id` and, once released, `deps` (its
 * dependencies' outcomes, handed to the claim as `ctx.dependencies`); `flow_nodes` holds each
 * node's dependency count, dependents, policy and outcome, `flows` each flow.
 *
 * Resolving dependents is a row trigger on `tasks`: whichever statement writes a node's
 * terminal status (the step's acks and expiries, fail, cancel, reclaim's poison rule) runs it
 * in its own transaction, so a node's end and its dependents' release or cancellation commit
 * together or not at all, and no function of migration 1 had to learn about flows. A cancelled
 * dependent's own update fires the trigger in turn (the cascade).
 *
 * Also: the status `waiting` (the check constraint), `cancel` accepting a waiting node, and the
 * step re-created to return `deps` with each claimed task. An ended flow's rows are deleted
 * `ttl_ms` (the store's `retention.ttlMs`) after it ended, a few at each flow's end.
 */
import type { SchemaNames } from "./names.js";
import { stepV1 } from "./step-v1.js";

export function flowsV4(names: SchemaNames): string {
  const { s } = names;
  const work = `'${names.workChannel}'`;
  const events = `'${names.eventsChannel}'`;
  return `
ALTER TABLE ${s}.tasks DROP CONSTRAINT tasks_status_check;
ALTER TABLE ${s}.tasks ADD CONSTRAINT tasks_status_check CHECK (status IN
  ('waiting','scheduled','queued','running','retrying','succeeded','failed','cancelled','expired'));
ALTER TABLE ${s}.tasks ADD COLUMN flow_id text, ADD COLUMN deps text;

CREATE TABLE ${s}.flows (
  id          text PRIMARY KEY,
  kind        text NOT NULL,
  created_at  bigint NOT NULL,
  remaining   integer NOT NULL,
  nodes       text NOT NULL,
  ttl_ms      bigint NOT NULL DEFAULT 0,
  finished_at bigint
);
CREATE INDEX flows_finished ON ${s}.flows (finished_at) WHERE finished_at IS NOT NULL;

CREATE TABLE ${s}.flow_nodes (
  task_id    text PRIMARY KEY,
  flow_id    text NOT NULL,
  ref        text NOT NULL,
  pend       integer NOT NULL,
  policy     text NOT NULL,
  dependents text[] NOT NULL,
  outcome    text
);

-- Stores a flow: p_tasks as enqueue_many's elements, each followed by
-- [ref, pending count, policy, dependents' ids (space-separated)]. Nodes with dependencies wait.
CREATE FUNCTION ${s}.enqueue_flow(p_id text, p_kind text, p_nodes text, p_tasks jsonb,
  p_ttl_ms bigint) RETURNS integer LANGUAGE plpgsql AS $$
DECLARE
  v_now bigint := ${s}.now_ms();
  v_queues text[] := '{}';
  e jsonb; t jsonb; f jsonb;
  v_run bigint; v_exp bigint; v_status text; v_pend integer;
BEGIN
  INSERT INTO ${s}.flows (id, kind, created_at, remaining, nodes, ttl_ms)
  VALUES (p_id, p_kind, v_now, jsonb_array_length(p_tasks), p_nodes, p_ttl_ms);
  FOR e IN SELECT value FROM jsonb_array_elements(p_tasks) LOOP
    t := e->0;
    f := e->1;
    v_pend := (f->>1)::integer;
    v_run := nullif(t->>6, '')::bigint;
    IF v_run IS NULL AND t->>5 <> '' THEN v_run := v_now + (t->>5)::bigint; END IF;
    v_exp := nullif(t->>8, '')::bigint;
    IF v_exp IS NULL AND t->>7 <> '' THEN v_exp := v_now + (t->>7)::bigint; END IF;
    IF v_pend > 0 THEN v_status := 'waiting';
    ELSIF v_run IS NOT NULL AND v_run > v_now THEN v_status := 'scheduled';
    ELSE v_status := 'queued'; v_run := NULL; END IF;
    INSERT INTO ${s}.tasks (id, name, queue, status, priority, seq, payload, created_at, run_at,
      expires_at, max_retries, timeout_ms, retry, meta, flow_id)
    VALUES (t->>0, t->>1, t->>2, v_status, (t->>4)::double precision, nextval('${s}.seq'),
      nullif(t->>3, ''), v_now, v_run, v_exp, nullif(t->>11, '')::integer,
      nullif(t->>12, '')::bigint, nullif(t->>13, ''), nullif(t->>14, ''), p_id);
    INSERT INTO ${s}.flow_nodes (task_id, flow_id, ref, pend, policy, dependents)
    VALUES (t->>0, p_id, f->>0, v_pend, f->>2,
      coalesce(string_to_array(nullif(f->>3, ''), ' '), '{}'));
    IF NOT (t->>2 = ANY(v_queues)) THEN v_queues := v_queues || (t->>2); END IF;
  END LOOP;
  INSERT INTO ${s}.queues (name) SELECT unnest(v_queues) ON CONFLICT DO NOTHING;
  PERFORM pg_notify(${work}, q) FROM unnest(v_queues) AS q;
  RETURN 1;
END $$;

-- A flow node reached a terminal status: record its outcome on its dependents (once), cancel
-- the "cancel" ones when it did not succeed, release those whose last dependency it was.
CREATE FUNCTION ${s}.flow_node_ended() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
  v_now bigint := ${s}.now_ms();
  v_outcome text;
  v_ref text;
  v_dependents text[];
  v_pend integer;
  v_error text;
  d record;
BEGIN
  v_outcome := CASE
    WHEN NEW.status = 'succeeded' AND NEW.value IS NOT NULL AND NEW.value <> ''
      THEN '{"status":"succeeded","value":' || NEW.value || '}'
    WHEN NEW.status = 'succeeded' THEN '{"status":"succeeded"}'
    WHEN NEW.error IS NOT NULL AND NEW.error <> ''
      THEN '{"status":"' || NEW.status || '","error":' || NEW.error || '}'
    ELSE '{"status":"' || NEW.status || '"}' END;
  -- Once per node: a DLQ replay may end a task twice.
  UPDATE ${s}.flow_nodes SET outcome = v_outcome WHERE task_id = NEW.id AND outcome IS NULL
  RETURNING ref, dependents INTO v_ref, v_dependents;
  IF NOT FOUND THEN RETURN NULL; END IF;
  FOR d IN
    SELECT t.id, t.status, t.queue, t.run_at, n.policy, t.name, t.attempts, t.created_at,
      t.started_at
    FROM ${s}.tasks t JOIN ${s}.flow_nodes n ON n.task_id = t.id
    WHERE t.id = ANY(v_dependents) ORDER BY t.id FOR UPDATE OF t
  LOOP
    CONTINUE WHEN d.status <> 'waiting';
    UPDATE ${s}.flow_nodes SET pend = pend - 1 WHERE task_id = d.id RETURNING pend INTO v_pend;
    UPDATE ${s}.tasks SET deps = (coalesce(deps, '{}')::jsonb
      || jsonb_build_object(v_ref, v_outcome::jsonb))::text WHERE id = d.id;
    IF NEW.status <> 'succeeded' AND d.policy <> 'run' THEN
      v_error := jsonb_build_object('name', 'CancelledError', 'code', 'ERR_CANCELLED',
        'reason', 'dependency', 'message', 'The task was cancelled because its dependency "'
        || v_ref || '" did not succeed (onDependencyFailure: "cancel")')::text;
      INSERT INTO ${s}.events (task_id, name, queue, status, attempts, at, created_at,
        started_at, finished_at, error)
      VALUES (d.id, d.name, d.queue, 'cancelled', d.attempts, v_now, d.created_at, d.started_at,
        v_now, v_error);
      PERFORM pg_notify(${events}, '');
      -- Fires this trigger for d in turn: the cascade.
      UPDATE ${s}.tasks SET status = 'cancelled', finished_at = v_now, error = v_error,
        run_at = NULL WHERE id = d.id;
    ELSIF v_pend <= 0 THEN
      IF d.run_at IS NOT NULL AND d.run_at > v_now THEN
        UPDATE ${s}.tasks SET status = 'scheduled' WHERE id = d.id;
      ELSE
        UPDATE ${s}.tasks SET status = 'queued', run_at = NULL, seq = nextval('${s}.seq')
        WHERE id = d.id;
      END IF;
      PERFORM pg_notify(${work}, d.queue);
    END IF;
  END LOOP;
  UPDATE ${s}.flows SET remaining = remaining - 1,
    finished_at = CASE WHEN remaining - 1 <= 0 THEN v_now ELSE finished_at END
  WHERE id = NEW.flow_id RETURNING remaining INTO v_pend;
  -- A flow ended: retention deletes (a bounded batch of) flows ended over their ttl ago.
  IF v_pend <= 0 THEN
    WITH gone AS (
      DELETE FROM ${s}.flows WHERE id IN (SELECT id FROM ${s}.flows
        WHERE finished_at IS NOT NULL AND ttl_ms > 0 AND finished_at + ttl_ms <= v_now
        ORDER BY finished_at LIMIT 20 FOR UPDATE SKIP LOCKED)
      RETURNING id)
    DELETE FROM ${s}.flow_nodes n USING gone WHERE n.flow_id = gone.id;
  END IF;
  RETURN NULL;
END $$;

CREATE TRIGGER tasks_flow_node_ended AFTER UPDATE OF status ON ${s}.tasks
  FOR EACH ROW
  WHEN (NEW.flow_id IS NOT NULL AND OLD.status IS DISTINCT FROM NEW.status
    AND NEW.status IN ('succeeded','failed','cancelled','expired'))
  EXECUTE FUNCTION ${s}.flow_node_ended();

-- As migration 1's cancel, and a flow node waiting for its dependencies is cancelled too.
CREATE OR REPLACE FUNCTION ${s}.cancel(p_id text, p_error text) RETURNS integer
  LANGUAGE plpgsql AS $$
DECLARE
  v_now bigint := ${s}.now_ms();
  t ${s}.tasks;
  v_code integer;
BEGIN
  SELECT * INTO t FROM ${s}.tasks WHERE id = p_id FOR UPDATE;
  IF NOT FOUND THEN RETURN -1; END IF;
  IF t.status IN ('queued','scheduled','retrying','waiting') THEN v_code := 1;
  ELSIF t.status = 'running' THEN v_code := 2;
  ELSE RETURN 0; END IF;
  INSERT INTO ${s}.events (task_id, name, queue, status, attempts, at, created_at, started_at,
    finished_at, error)
  VALUES (t.id, t.name, t.queue, 'cancelled', t.attempts, v_now, t.created_at, t.started_at, v_now,
    p_error);
  UPDATE ${s}.tasks SET status = 'cancelled', finished_at = v_now, error = p_error,
    run_at = NULL, lease_until = NULL
  WHERE id = p_id;
  PERFORM pg_notify(${events}, '');
  RETURN v_code;
END $$;

${stepV1(names, true).replace(/CREATE FUNCTION/g, "CREATE OR REPLACE FUNCTION")}
`;
}
