/**
 * Flows as a durable store keeps them (the optional flow block of the port): the input of one
 * atomic `enqueueFlow`, and the picture `getFlow` reads back. The engine decides which node
 * depends on which; the store records it and, in the same atomic step that ends a node,
 * releases or cancels its dependents (see `stores/redis/lua/includes/flow.lua`).
 */
import { isTerminal, TaskStatus } from "../lifecycle/states.js";
import type { DependencyOutcome } from "../types.js";
import type { EnqueueInput } from "./durable-types.js";

/** What a node does when a dependency did not succeed. */
export type StoredDependencyPolicy = "cancel" | "run";

/** One node of a flow to store. */
export interface FlowNodeInput {
  /** The task; its `id` is required (dependents name it). No idempotency key. */
  readonly task: EnqueueInput & { readonly id: string; readonly queue: string };
  readonly ref: string;
  /** Refs of its dependencies (for snapshots). */
  readonly dependsOn: readonly string[];
  /** Task ids of the nodes that depend on this one. */
  readonly dependents: readonly string[];
  readonly policy: StoredDependencyPolicy;
}

/** A whole flow, stored in one atomic step. */
export interface FlowInput {
  readonly id: string;
  readonly kind: "flow" | "batch";
  readonly nodes: readonly FlowNodeInput[];
  /**
   * True when the engine generated the flow id and every node's task id just now (random
   * UUIDs): no record can hold them, so a store may skip looking them up. Otherwise a store
   * refuses a flow naming an existing flow or task.
   */
  readonly freshIds?: boolean;
}

/** One node as the store holds it now. */
export interface StoredFlowNode {
  readonly ref: string;
  readonly id: string;
  readonly name: string;
  readonly queue: string;
  readonly dependsOn: readonly string[];
  readonly policy: StoredDependencyPolicy;
  /** The task's status; from its outcome when retention already evicted the task. */
  readonly status: TaskStatus;
  /** Present once the node has ended. */
  readonly outcome: DependencyOutcome | undefined;
}

/** A flow as the store holds it now. */
export interface StoredFlow {
  readonly id: string;
  readonly kind: "flow" | "batch";
  readonly createdAt: number;
  /** True once every node has ended. */
  readonly done: boolean;
  readonly nodes: readonly StoredFlowNode[];
}

/** The error a "cancel" dependent records, as JSON (the same text in every store). */
export function dependencyCancelledJson(ref: string): string {
  return JSON.stringify({
    name: "CancelledError",
    code: "ERR_CANCELLED",
    reason: "dependency",
    message: `The task was cancelled because its dependency "${ref}" did not succeed (onDependencyFailure: "cancel")`,
  });
}

/** A terminal task's outcome as JSON text, from its stored value and error JSON. */
export function outcomeJson(
  status: string,
  valueJson: string | null,
  errorJson: string | null,
): string {
  if (status === "succeeded")
    return valueJson === null || valueJson === ""
      ? '{"status":"succeeded"}'
      : `{"status":"succeeded","value":${valueJson}}`;
  return errorJson === null || errorJson === ""
    ? `{"status":${JSON.stringify(status)}}`
    : `{"status":${JSON.stringify(status)},"error":${errorJson}}`;
}

/**
 * A node as every store lists it in its flow record (JSON): what a snapshot needs that does not
 * change, written once when the flow is stored.
 */
export type FlowNodeRow = [
  ref: string,
  id: string,
  name: string,
  queue: string,
  dependsOn: string[],
  policy: StoredDependencyPolicy,
];

/** The row of `node`, whose task was stored under `id` in `queue`. */
export function flowNodeRow(node: FlowNodeInput, id: string, queue: string): FlowNodeRow {
  return [node.ref, id, node.task.name, queue, [...node.dependsOn], node.policy];
}

const STATUSES = new Set<string>(Object.values(TaskStatus));

/**
 * A node now, from its row, its task's stored status (absent once retention evicted the task)
 * and its outcome JSON (present once it ended): a node evicted after it ended keeps the
 * outcome's status; a node whose task is not stored yet is waiting.
 */
export function storedFlowNode(
  [ref, id, name, queue, dependsOn, policy]: FlowNodeRow,
  stored: string | null | undefined,
  outcomeText: string | null | undefined,
): StoredFlowNode {
  const outcome = outcomeText == null ? undefined : (JSON.parse(outcomeText) as DependencyOutcome);
  const known = stored != null && STATUSES.has(stored) ? (stored as TaskStatus) : undefined;
  const status =
    outcome !== undefined && (known === undefined || !isTerminal(known))
      ? outcome.status
      : (known ?? "waiting");
  return { ref, id, name, queue, dependsOn, policy, status, outcome };
}
