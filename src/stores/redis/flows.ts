/**
 * Flows in Redis: encoding `enqueueFlow`'s one script call (lua/enqueue-flow-4.lua) and reading
 * a flow back. Resolving dependents when a node ends is not here: it is part of every script
 * that ends a task (lua/includes/flow.lua), so it is atomic with the end itself.
 */
import type { Redis } from "ioredis";
import { InvalidArgumentError } from "../../errors.js";
import { isTerminal, TaskStatus } from "../../lifecycle/states.js";
import type { DependencyOutcome } from "../../types.js";
import type {
  FlowInput,
  StoredDependencyPolicy,
  StoredFlow,
  StoredFlowNode,
} from "../durable-flows.js";
import { encodeTask } from "./enqueue.js";
import { UnexpectedReplyError } from "./errors.js";
import type { KeySpace } from "./keys.js";
import { runScript, type ScriptArg } from "./scripts.js";

/** A node as the flow hash's `nodes` field lists it. */
type NodeRow = [
  ref: string,
  id: string,
  name: string,
  queue: string,
  dependsOn: string[],
  policy: StoredDependencyPolicy,
];

/** Stores a flow in one script call; all or nothing. */
export async function enqueueFlow(
  redis: Redis,
  k: KeySpace,
  flow: FlowInput,
  ttlMs: number,
): Promise<void> {
  const rows: NodeRow[] = [];
  const args: ScriptArg[] = [flow.id, flow.kind, ttlMs, "", flow.nodes.length];
  flow.nodes.forEach((node, i) => {
    const encoded = encodeTask(node.task, `nodes[${i}].`);
    if (node.task.idempotencyKey !== undefined)
      throw new InvalidArgumentError(
        `nodes[${i}].idempotencyKey`,
        "is not available to a flow node",
        node.task.idempotencyKey,
      );
    rows.push([
      node.ref,
      encoded.id,
      node.task.name,
      encoded.queue,
      [...node.dependsOn],
      node.policy,
    ]);
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

const STATUSES = new Set<string>(Object.values(TaskStatus));

/** The flow and its nodes' current statuses (one HGETALL, then one pipelined HGET per node). */
export async function readFlow(
  redis: Redis,
  k: KeySpace,
  id: string,
): Promise<StoredFlow | undefined> {
  const hash = await redis.hgetall(`${k.base}f:${id}`);
  if (hash.nodes === undefined) return undefined;
  const rows = JSON.parse(hash.nodes) as NodeRow[];
  const pipeline = redis.pipeline();
  for (const row of rows) pipeline.hget(k.task(row[1]), "status");
  const replies = (await pipeline.exec()) ?? [];
  const nodes: StoredFlowNode[] = rows.map(([ref, taskId, name, queue, dependsOn, policy], i) => {
    const text = hash[`o:${ref}`];
    const outcome = text === undefined ? undefined : (JSON.parse(text) as DependencyOutcome);
    const read = replies[i]?.[1];
    // A node evicted by retention after it ended keeps its outcome on the flow.
    const status =
      outcome !== undefined && (typeof read !== "string" || !isTerminal(read as TaskStatus))
        ? outcome.status
        : typeof read === "string" && STATUSES.has(read)
          ? (read as TaskStatus)
          : "waiting";
    return { ref, id: taskId, name, queue, dependsOn, policy, status, outcome };
  });
  return {
    id,
    kind: hash.kind === "batch" ? "batch" : "flow",
    createdAt: Number(hash.createdAt),
    done: Number(hash.remaining) <= 0,
    nodes,
  };
}
