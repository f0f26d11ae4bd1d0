/**
 * Flows in the SQLite store (schema version 4, `schema-flows.ts`). `insertFlow` stores a whole
 * flow in the caller's transaction; `flowNodeEnded` is called by every step that writes a
 * terminal status (ack, dead letter, cancel, expiry), in that step's transaction, so a node's
 * end and the release or cancellation of its dependents commit together or not at all: the
 * same rules as the Redis store's `lua/includes/flow.lua`.
 */
import {
  dependencyCancelledJson,
  type FlowInput,
  type FlowNodeRow,
  flowNodeRow,
  outcomeJson,
  type StoredFlow,
  storedFlowNode,
} from "../durable-flows.js";
import type { Tx } from "./committer.js";
import { insertTask, prepareTask } from "./enqueue.js";
import { emitEvent, finish } from "./records.js";

/** Stores the flow and its nodes (the caller's transaction makes it all or nothing). */
export function insertFlow(tx: Tx, flow: FlowInput, ttlMs: number): void {
  const rows: FlowNodeRow[] = [];
  flow.nodes.forEach((node, i) => {
    const task = prepareTask(node.task, `nodes[${i}].`);
    rows.push(flowNodeRow(node, task.id, task.queue));
    if (node.dependsOn.length === 0) insertTask(tx, task);
    else {
      const now = tx.now;
      const runAt = task.runAt ?? (task.delayMs === undefined ? undefined : now + task.delayMs);
      const expiresAt = task.expiresAt ?? (task.ttlMs === undefined ? undefined : now + task.ttlMs);
      tx.sql
        .q(
          `INSERT INTO tasks (id, name, queue, status, priority, payload, created_at, run_at,
             expires_at, max_retries, timeout_ms, retry, meta, ready)
           VALUES (?, ?, ?, 'waiting', ?, ?, ?, ?, ?, ?, ?, ?, ?, 0)`,
        )
        .run(
          task.id,
          task.name,
          task.queue,
          task.priority,
          task.payload,
          now,
          runAt === undefined ? null : Math.ceil(runAt),
          expiresAt === undefined ? null : Math.ceil(expiresAt),
          task.maxRetries,
          task.timeoutMs,
          task.retry,
          task.meta,
        );
      tx.sql.q("INSERT OR IGNORE INTO queues (name) VALUES (?)").run(task.queue);
    }
    tx.sql
      .q(
        `INSERT INTO flow_nodes (task_id, flow_id, ref, pend, policy, dependents)
         VALUES (?, ?, ?, ?, ?, ?)`,
      )
      .run(
        task.id,
        flow.id,
        node.ref,
        node.dependsOn.length,
        node.policy,
        node.dependents.join(" "),
      );
  });
  tx.sql
    .q(
      "INSERT INTO flows (id, kind, created_at, remaining, nodes, ttl_ms) VALUES (?, ?, ?, ?, ?, ?)",
    )
    .run(flow.id, flow.kind, tx.now, flow.nodes.length, JSON.stringify(rows), ttlMs);
}

interface EndedRow {
  readonly flow_id: string;
  readonly ref: string;
  readonly dependents: string;
  readonly status: string;
  readonly value: string | null;
  readonly error: string | null;
}

interface DependentRow {
  readonly status: string;
  readonly policy: string;
  readonly pend: number;
  readonly deps: string | null;
  readonly run_at: number | null;
}

/**
 * Task `id` just ended (its terminal status written in this transaction): records its outcome
 * on its dependents, cancels the "cancel" ones when it did not succeed (and resolves them in
 * turn), releases those whose last dependency it was, and counts it out of its flow once.
 * Nothing for a task outside flows.
 */
export function flowNodeEnded(tx: Tx, id: string): void {
  const work = [id];
  for (let i = 0; i < work.length; i++) {
    const row = tx.sql
      .q(
        `SELECT n.flow_id, n.ref, n.dependents, t.status, t.value, t.error
         FROM flow_nodes n JOIN tasks t ON t.id = n.task_id WHERE n.task_id = ?`,
      )
      .get(work[i]) as EndedRow | undefined;
    if (row === undefined) continue;
    const outcome = outcomeJson(row.status, row.value, row.error);
    // Once per node: a DLQ replay may end a task twice.
    const first = tx.sql
      .q("UPDATE flow_nodes SET outcome = ? WHERE task_id = ? AND outcome IS NULL")
      .run(outcome, work[i]);
    if (first.changes === 0) continue;
    const failed = row.status !== "succeeded";
    for (const dependent of row.dependents.split(" ")) {
      if (dependent === "") continue;
      const d = tx.sql
        .q(
          `SELECT t.status, n.policy, n.pend, t.deps, t.run_at
           FROM flow_nodes n JOIN tasks t ON t.id = n.task_id WHERE n.task_id = ?`,
        )
        .get(dependent) as DependentRow | undefined;
      if (d === undefined || d.status !== "waiting") continue;
      const deps = d.deps === null ? {} : (JSON.parse(d.deps) as Record<string, unknown>);
      deps[row.ref] = JSON.parse(outcome);
      const depsJson = JSON.stringify(deps);
      tx.sql.q("UPDATE flow_nodes SET pend = pend - 1 WHERE task_id = ?").run(dependent);
      tx.sql.q("UPDATE tasks SET deps = ? WHERE id = ?").run(depsJson, dependent);
      if (failed && d.policy !== "run") {
        const error = dependencyCancelledJson(row.ref);
        tx.sql
          .q(
            "UPDATE tasks SET status = 'cancelled', finished_at = ?, error = ?, run_at = NULL WHERE id = ?",
          )
          .run(tx.now, error, dependent);
        finish(tx, dependent);
        emitEvent(tx, dependent, "cancelled", { error, finishedAt: tx.now });
        work.push(dependent);
      } else if (d.pend - 1 <= 0) release(tx, dependent, d.run_at);
    }
    const left = tx.sql
      .q(
        `UPDATE flows SET remaining = remaining - 1,
           finished_at = CASE WHEN remaining - 1 <= 0 THEN ? ELSE finished_at END
         WHERE id = ? RETURNING remaining`,
      )
      .get(tx.now, row.flow_id) as { remaining: number } | undefined;
    if (left !== undefined && left.remaining <= 0) evictEndedFlows(tx);
  }
}

/** Most ended flows deleted per flow end: retention keeps pace without a long step. */
const EVICT_BATCH = 20;

/** Deletes flows that ended more than their `ttl_ms` ago (a bounded batch). */
function evictEndedFlows(tx: Tx): void {
  const old = tx.sql
    .q(
      `SELECT id FROM flows WHERE finished_at IS NOT NULL AND ttl_ms > 0
         AND finished_at + ttl_ms <= ? ORDER BY finished_at LIMIT ?`,
    )
    .all(tx.now, EVICT_BATCH) as Array<{ id: string }>;
  for (const { id } of old) {
    tx.sql.q("DELETE FROM flow_nodes WHERE flow_id = ?").run(id);
    tx.sql.q("DELETE FROM flows WHERE id = ?").run(id);
  }
}

/** waiting -> queued (or scheduled while the node's own delay has not passed). */
function release(tx: Tx, id: string, runAt: number | null): void {
  if (runAt !== null && runAt > tx.now)
    tx.sql.q("UPDATE tasks SET status = 'scheduled', due_at = run_at WHERE id = ?").run(id);
  else
    tx.sql
      .q("UPDATE tasks SET status = 'queued', run_at = NULL, pos = ?, ready = 1 WHERE id = ?")
      .run(tx.sql.next("seq"), id);
  tx.wake();
}

/** The flow now, or undefined. */
export function readFlow(tx: Pick<Tx, "sql">, id: string): StoredFlow | undefined {
  const flow = tx.sql
    .q("SELECT kind, created_at, remaining, nodes FROM flows WHERE id = ?")
    .get(id) as { kind: string; created_at: number; remaining: number; nodes: string } | undefined;
  if (flow === undefined) return undefined;
  const rows = JSON.parse(flow.nodes) as FlowNodeRow[];
  const read = tx.sql.q(
    `SELECT t.status, n.outcome FROM flow_nodes n LEFT JOIN tasks t ON t.id = n.task_id
     WHERE n.task_id = ?`,
  );
  return {
    id,
    kind: flow.kind === "batch" ? "batch" : "flow",
    createdAt: flow.created_at,
    done: flow.remaining <= 0,
    nodes: rows.map((row) => {
      const r = read.get(row[1]) as { status: string | null; outcome: string | null } | undefined;
      return storedFlowNode(row, r?.status, r?.outcome);
    }),
  };
}
