/**
 * Flows in the Postgres store (migration 4, `sql/flows-v4.ts`): storing one in one
 * `enqueue_flow` call, reading one back. Dependents are resolved by the trigger of that
 * migration, in the transaction that ends each node.
 */
import {
  type FlowInput,
  type FlowNodeRow,
  flowNodeRow,
  type StoredFlow,
  storedFlowNode,
} from "../durable-flows.js";
import { encodeTask } from "../redis/enqueue.js";
import { UnexpectedRowError } from "./codec.js";
import type { Query } from "./queries.js";
import type { SchemaNames } from "./sql/names.js";

/** Stores a flow in one function call (one statement: all or nothing). */
export async function enqueueFlow(
  query: Query,
  names: SchemaNames,
  flow: FlowInput,
  ttlMs: number,
): Promise<void> {
  const rows: FlowNodeRow[] = [];
  const tasks = flow.nodes.map((node, i) => {
    const encoded = encodeTask(node.task, `nodes[${i}].`);
    rows.push(flowNodeRow(node, encoded.id, encoded.queue));
    // enqueue_many's 15 arguments, then the node's flow fields.
    return [
      encoded.args.slice(0, 15),
      [node.ref, node.dependsOn.length, node.policy, node.dependents.join(" ")],
    ];
  });
  const reply = await query(`SELECT ${names.s}.enqueue_flow($1, $2, $3, $4::jsonb, $5) AS r`, [
    flow.id,
    flow.kind,
    JSON.stringify(rows),
    JSON.stringify(tasks),
    ttlMs,
  ]);
  if (reply.rows[0]?.r !== 1) throw new UnexpectedRowError("enqueueFlow", reply.rows[0]);
}

/** The flow and its nodes' statuses (two queries), or undefined. */
export async function readFlow(
  query: Query,
  names: SchemaNames,
  id: string,
): Promise<StoredFlow | undefined> {
  const { s } = names;
  const flow = (
    await query(`SELECT kind, created_at, remaining, nodes FROM ${s}.flows WHERE id = $1`, [id])
  ).rows[0];
  if (flow === undefined) return undefined;
  const { rows: states } = await query(
    `SELECT n.task_id, t.status, n.outcome FROM ${s}.flow_nodes n
     LEFT JOIN ${s}.tasks t ON t.id = n.task_id WHERE n.flow_id = $1`,
    [id],
  );
  const byId = new Map(states.map((row) => [String(row.task_id), row]));
  const rows = JSON.parse(String(flow.nodes)) as FlowNodeRow[];
  const nodes = rows.map((row) => {
    const state = byId.get(row[1]);
    return storedFlowNode(
      row,
      state?.status == null ? null : String(state.status),
      state?.outcome == null ? null : String(state.outcome),
    );
  });
  return {
    id,
    kind: flow.kind === "batch" ? "batch" : "flow",
    createdAt: Number(flow.created_at),
    done: Number(flow.remaining) <= 0,
    nodes,
  };
}
