/**
 * Flows in Redis: encoding `enqueueFlow`'s one script call (lua/enqueue-flow-4.lua) and reading
 * a flow back. Resolving dependents when a node ends is not here: it is part of every script
 * that ends a task (lua/includes/flow.lua), so it is atomic with the end itself.
 */

import { InvalidArgumentError } from "../../errors.js";
import {
  type FlowInput,
  type FlowNodeInput,
  type FlowNodeRow,
  flowNodeRow,
  type StoredFlow,
  storedFlowNode,
} from "../durable-flows.js";
import type { RedisClient } from "./client.js";
import { type EncodedTask, encodeTask } from "./enqueue.js";
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
  const fresh = flow.freshIds === true;
  // A node's flow field packs the flow id and its dependents' ids, NUL-separated
  // (lua/includes/flow.lua); the engine's ids are UUIDs, anyone else's are checked.
  if (!fresh) {
    if (flow.id.includes("\0"))
      throw new InvalidArgumentError("flow.id", "must not contain a NUL character", flow.id);
    flow.nodes.forEach((node, i) => {
      if (node.task.id.includes("\0"))
        throw new InvalidArgumentError(
          `nodes[${i}].id`,
          "must not contain a NUL character",
          node.task.id,
        );
    });
  }
  const rows: FlowNodeRow[] = [];
  const nodes: string[][] = [];
  flow.nodes.forEach((node, i) => {
    if (node.task.idempotencyKey !== undefined)
      throw new InvalidArgumentError(
        `nodes[${i}].idempotencyKey`,
        "is not available to a flow node",
        node.task.idempotencyKey,
      );
    const encoded = fresh ? encodeFreshTask(node.task, i) : encodeTask(node.task, `nodes[${i}].`);
    rows.push(flowNodeRow(node, encoded.id, encoded.queue));
    const entry: string[] = encoded.args.map(jsonArgument);
    entry.push(
      jsonArgument(node.ref),
      String(node.dependsOn.length),
      node.policy,
      node.dependents.join(" "),
    );
    nodes.push(entry);
  });
  const args: ScriptArg[] = [
    flow.id,
    flow.kind,
    ttlMs,
    JSON.stringify(rows),
    fresh ? "1" : "0",
    JSON.stringify(nodes),
  ];
  const reply = await runScript(redis, "enqueueFlow", [k.base, k.delayed, k.seq, k.queues], args);
  if (reply === -7)
    throw new InvalidArgumentError("flow.id", "must not name an existing flow or task", flow.id);
  if (reply !== 1) throw new UnexpectedReplyError("enqueueFlow", reply);
}

/**
 * One script argument as text inside the nodes' JSON (lua/enqueue-flow-4.lua). A string with a
 * lone surrogate would be written by JSON.stringify as an escape that cjson refuses: it becomes
 * U+FFFD, the bytes a separate argument of it got on the wire (UTF-8 has no lone surrogates).
 */
function jsonArgument(arg: ScriptArg): string {
  if (typeof arg !== "string") return String(arg);
  const text = arg as unknown as WellFormedString;
  return text.isWellFormed() ? arg : text.toWellFormed();
}

/** ES2024's String methods (Node 20 has them; the compiled lib is ES2023). */
interface WellFormedString {
  isWellFormed(): boolean;
  toWellFormed(): string;
}

/**
 * A node whose id the engine generated just now, encoded as `encodeTask` encodes it, without
 * the fingerprint: that is compared only when a later enqueue names the same id or
 * idempotency key, and no caller can name a fresh id (nor give a node a key). Skipping it saves
 * a SHA-256 and a canonical JSON of the payload per node.
 */
function encodeFreshTask(task: FlowNodeInput["task"], i: number): EncodedTask {
  const { id, ...rest } = task;
  const encoded = encodeTask(rest, `nodes[${i}].`);
  encoded.args[0] = id;
  return { ...encoded, id };
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
    done: isDone(hash),
    nodes,
  };
}

/**
 * Whether every node of a flow hash has ended: as many outcomes (o:<ref>) as nodes; a flow
 * stored by an earlier version counts down `remaining` instead.
 */
function isDone(hash: Record<string, string>): boolean {
  if (hash.remaining !== undefined) return Number(hash.remaining) <= 0;
  let ended = 0;
  for (const field of Object.keys(hash)) if (field.startsWith("o:")) ended++;
  return ended >= Number(hash.total);
}
