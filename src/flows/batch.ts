/**
 * A batch is a flow: its items are nodes without dependencies (refs "0", "1", ...) and its
 * optional `then` is one more node that depends on all of them with onDependencyFailure "run".
 * So a batch inherits the flow's guarantees (atomic creation, `then` never stuck, retention)
 * from the one flow machinery of each store.
 */
import { InvalidArgumentError } from "../errors.js";
import type { DependencyOutcome } from "../types.js";
import type {
  BatchHandle,
  BatchItem,
  BatchOptions,
  BatchProgress,
  BatchResult,
  FlowHandle,
  FlowNode,
} from "./flow-types.js";

/** The ref of a batch's `then` node (items are "0", "1", ...). */
export const BATCH_THEN_REF = "then";

/** The flow nodes of a batch. */
export function batchNodes(items: readonly BatchItem[], options: BatchOptions = {}): FlowNode[] {
  if (!Array.isArray(items)) throw new InvalidArgumentError("items", "must be an array", items);
  if (typeof options !== "object" || options === null)
    throw new InvalidArgumentError("options", "must be an object", options);
  const nodes: FlowNode[] = items.map((item, i) => {
    if (typeof item !== "object" || item === null)
      throw new InvalidArgumentError(`items[${i}]`, "must be an object", item);
    return { ref: String(i), name: item.name, payload: item.payload, options: item.options };
  });
  const then = options.then;
  if (then !== undefined) {
    if (typeof then !== "object" || then === null)
      throw new InvalidArgumentError("options.then", "must be an object", then);
    nodes.push({
      ref: BATCH_THEN_REF,
      name: then.name,
      payload: then.payload,
      options: then.options,
      dependsOn: nodes.map((node) => node.ref),
      onDependencyFailure: "run",
    });
  }
  return nodes;
}

/** Re-names a flow node's argument (`nodes[2].name`) as the batch's (`items[2].name`). */
export function asBatchArgument(error: unknown, items: number): unknown {
  if (!(error instanceof InvalidArgumentError)) return error;
  const match = /^nodes\[(\d+)\](.*)$/.exec(error.argument);
  if (match === null) return error;
  const index = Number(match[1]);
  const argument = index < items ? `items[${index}]${match[2]}` : `options.then${match[2]}`;
  return new InvalidArgumentError(argument, error.requirement, error.value);
}

/** The batch view of a flow made by `batchNodes`. */
export class FlowBatchHandle implements BatchHandle {
  readonly #flow: FlowHandle;
  readonly tasks: BatchHandle["tasks"];
  readonly thenTask: BatchHandle["thenTask"];

  constructor(flow: FlowHandle, items: number) {
    this.#flow = flow;
    this.tasks = Array.from({ length: items }, (_, i) => flow.tasks[String(i)] as never);
    this.thenTask = flow.tasks[BATCH_THEN_REF];
  }

  get id(): string {
    return this.#flow.id;
  }

  async progress(): Promise<BatchProgress> {
    return batchProgress(await this.#flow.status());
  }

  async result(): Promise<BatchResult> {
    const outcomes = await this.#flow.result();
    const items = this.tasks.map((_, i) => outcomes[String(i)] as DependencyOutcome);
    const then = outcomes[BATCH_THEN_REF];
    return then === undefined ? { items } : { items, then };
  }
}

/** A batch's progress from its flow's snapshot; the `then` node is not an item. */
export function batchProgress(snapshot: Awaited<ReturnType<FlowHandle["status"]>>): BatchProgress {
  const counts = { succeeded: 0, failed: 0, cancelled: 0, expired: 0, running: 0, pending: 0 };
  let total = 0;
  for (const node of snapshot.nodes) {
    if (node.ref === BATCH_THEN_REF) continue;
    total++;
    switch (node.status) {
      case "succeeded":
      case "failed":
      case "cancelled":
      case "expired":
      case "running":
        counts[node.status]++;
        break;
      default:
        counts.pending++;
    }
  }
  return { total, ...counts };
}
