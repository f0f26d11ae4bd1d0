/**
 * Flows in Redis: encoding `enqueueFlow`'s one script call (lua/enqueue-flow-4.lua) and reading
 * a flow back. Resolving dependents when a node ends is not here: it is part of every script
 * that ends a task (lua/includes/flow.lua), so it is atomic with the end itself.
 */

import { InvalidArgumentError } from "../../errors.js";
import {
  type FlowInput,
  type FlowNodeRow,
  flowNodeRow,
  type StoredFlow,
  storedFlowNode,
} from "../durable-flows.js";
import type { RedisClient } from "./client.js";
import { encodeTask } from "./enqueue.js";
import { UnexpectedReplyError } from "./errors.js";
import type { KeySpace } from "./keys.js";
import { runScript, type ScriptArg } from "./scripts.js";

/** Stores a flow in one script call; all or nothing. */
export async function enqueueFlow(
  redis: RedisClient,
  k: KeySpace,
  flow: FlowInput,
  ttlMs: number,
): Promise<void> {
  const rows: FlowNodeRow[] = [];
  const args: ScriptArg[] = [flow.id, flow.kind, ttlMs, "", flow.nodes.length];
  flow.nodes.forEach((node, i) => {
    const encoded = encodeTask(node.task, `nodes[${i}].`);
    if (node.task.idempotencyKey !== undefined)
      throw new InvalidArgumentError(
        `nodes[${i}].idempotencyKey`,
        "is not available to a flow node",
        node.task.idempotencyKey,
      );
    rows.push(flowNodeRow(node, encoded.id, encoded.queue));
    args.push(
      ...encoded.args,
      node.ref,
      node.dependsOn.length,
      node.policy,
      node.dependents.join(" "),
      JSON.stringify(node.dependsOn),
    );
  });
  args[3] = JSON.stringify(rows);
  const reply = await runScript(redis, "enqueueFlow", [k.base, k.delayed, k.seq, k.queues], args);
  if (reply === -7)
    throw new InvalidArgumentError("flow.id", "must not name an existing flow or task", flow.id);
  if (reply !== 1) throw new UnexpectedReplyError("enqueueFlow", reply);
}

/** The flow and its nodes' current statuses (one HGETALL, then one pipelined HGET per node). */
export async function readFlow(
  redis: RedisClient,
  k: KeySpace,
  id: string,
): Promise<StoredFlow | undefined> {
  const hash = await redis.hgetall(`${k.base}f:${id}`);
  if (hash.nodes === undefined) return undefined;
  const rows = JSON.parse(hash.nodes) as FlowNodeRow[];
  const pipeline = redis.pipeline();
  for (const row of rows) pipeline.hget(k.task(row[1]), "status");
  const replies = (await pipeline.exec()) ?? [];
  // A node evicted by retention after it ended keeps its outcome on the flow.
  const nodes = rows.map((row, i) => {
    const read = replies[i]?.[1];
    return storedFlowNode(row, typeof read === "string" ? read : null, hash[`o:${row[0]}`]);
  });
  return {
    id,
    kind: hash.kind === "batch" ? "batch" : "flow",
    createdAt: Number(hash.createdAt),
    done: Number(hash.remaining) <= 0,
    nodes,
  };
}
