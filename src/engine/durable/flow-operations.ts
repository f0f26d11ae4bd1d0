/**
 * Flows and batches in durable mode: a flow is submitted in one atomic store call, read back
 * from the store by any process (`mill.flows.get(id)`), and cancelled node by node, dependents
 * first, so no node is released by a dependency ending while the cancel runs.
 */
import type { FlowHandle } from "../../flows/flow-types.js";
import type { CheckedNode } from "../../flows/validate-flow.js";
import { isTerminal } from "../../lifecycle/states.js";
import type { StoredFlowNode } from "../../stores/durable-flows.js";
import type { TaskHandle } from "../../types.js";
import type { RegisteredHandler } from "../backend.js";
import { DurableFlowHandle, type FlowReader } from "./flow-handle.js";
import type { StoreCalls } from "./store-calls.js";
import type { DurableSubmitter } from "./submitter.js";

/** What the flow operations need from the engine. */
export interface FlowOperationsDeps {
  readonly calls: StoreCalls;
  readonly submitter: DurableSubmitter;
  /** A handle for one node's task (its result comes through the results feed). */
  readonly taskHandle: (id: string, name: string, queue: string) => TaskHandle;
  /** Cancels one task; resolves whether it was cancelled. */
  readonly cancelTask: (id: string) => Promise<boolean>;
}

export class DurableFlows {
  readonly #deps: FlowOperationsDeps;
  readonly #reader: FlowReader;

  constructor(deps: FlowOperationsDeps) {
    this.#deps = deps;
    this.#reader = {
      readFlow: (id) =>
        deps.calls.read("getFlow", async (store) =>
          store.getFlow === undefined ? undefined : store.getFlow(id),
        ),
      taskHandle: (id, name, queue) => deps.taskHandle(id, name, queue),
    };
  }

  /** A flow in one atomic store call (stores without flows refuse with UnsupportedError). */
  async submit(
    nodes: readonly CheckedNode[],
    handlers: ReadonlyMap<string, RegisteredHandler>,
    kind: "flow" | "batch",
  ): Promise<FlowHandle> {
    const flow = await this.#deps.submitter.submitFlow(nodes, handlers, kind);
    return new DurableFlowHandle(
      flow.id,
      flow.tasks.map((node) => ({
        ref: node.ref,
        id: node.task.id,
        name: node.task.name,
        queue: node.task.queue,
      })),
      this.#reader,
    );
  }

  async get(id: string): Promise<FlowHandle | undefined> {
    const flow = await this.#reader.readFlow(id);
    return flow === undefined ? undefined : new DurableFlowHandle(id, flow.nodes, this.#reader);
  }

  /** `cancel(flowId)`: every node not yet ended, dependents first (none is released meanwhile). */
  async cancel(id: string): Promise<boolean> {
    const flow = await this.#reader.readFlow(id);
    if (flow === undefined || flow.done) return false;
    let any = false;
    for (const node of dependentsFirst(flow.nodes))
      if (!isTerminal(node.status) && (await this.#deps.cancelTask(node.id))) any = true;
    return any;
  }
}

/** A flow's nodes with each listed before its dependencies. */
function dependentsFirst(nodes: readonly StoredFlowNode[]): StoredFlowNode[] {
  const byRef = new Map(nodes.map((node) => [node.ref, node]));
  const done = new Set<string>();
  const order: StoredFlowNode[] = [];
  const visit = (node: StoredFlowNode): void => {
    if (done.has(node.ref)) return;
    done.add(node.ref);
    for (const ref of node.dependsOn) {
      const dependency = byRef.get(ref);
      if (dependency !== undefined) visit(dependency);
    }
    order.push(node);
  };
  for (const node of nodes) visit(node);
  return order.reverse();
}
