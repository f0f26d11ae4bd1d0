/**
 * `submitFlow`'s handle in durable mode: the nodes' task handles (their results come through
 * the results feed like any task's), and the flow as the store holds it for `status()` and
 * `result()`. Any process can build one from the flow's id (`mill.flows.get(id)`).
 */
import { NotFoundError } from "../../errors.js";
import type { FlowHandle, FlowSnapshot } from "../../flows/flow-types.js";
import type { StoredFlow } from "../../stores/durable-flows.js";
import type { DependencyOutcome, TaskHandle } from "../../types.js";

/** What the handle needs from the engine. */
export interface FlowReader {
  readFlow(id: string): Promise<StoredFlow | undefined>;
  taskHandle(id: string, name: string, queue: string): TaskHandle;
}

export class DurableFlowHandle implements FlowHandle {
  readonly id: string;
  readonly tasks: Readonly<Record<string, TaskHandle>>;
  readonly #reader: FlowReader;

  constructor(
    id: string,
    nodes: ReadonlyArray<{
      readonly ref: string;
      readonly id: string;
      readonly name: string;
      readonly queue: string;
    }>,
    reader: FlowReader,
  ) {
    this.id = id;
    this.#reader = reader;
    const tasks: Record<string, TaskHandle> = {};
    for (const node of nodes) tasks[node.ref] = reader.taskHandle(node.id, node.name, node.queue);
    this.tasks = Object.freeze(tasks);
  }

  async status(): Promise<FlowSnapshot> {
    return snapshotOf(await this.#read());
  }

  /** Waits for every node's result (through the results feed), then reads the outcomes. */
  async result(): Promise<Record<string, DependencyOutcome>> {
    await Promise.allSettled(Object.values(this.tasks).map((task) => task.result()));
    let flow = await this.#read();
    // Every node's result came, so the flow has ended; should a result have come from a
    // record retention already evicted, read again until the store says so.
    for (let waitMs = 20; !flow.done; waitMs = Math.min(waitMs * 2, 1_000)) {
      await new Promise((resolve) => setTimeout(resolve, waitMs));
      flow = await this.#read();
    }
    const outcomes: Record<string, DependencyOutcome> = {};
    for (const node of flow.nodes)
      if (node.outcome !== undefined) outcomes[node.ref] = node.outcome;
    return outcomes;
  }

  async #read(): Promise<StoredFlow> {
    const flow = await this.#reader.readFlow(this.id);
    if (flow === undefined) throw new NotFoundError("flow", this.id);
    return flow;
  }
}

/** The public picture of a stored flow. */
export function snapshotOf(flow: StoredFlow): FlowSnapshot {
  return {
    id: flow.id,
    kind: flow.kind,
    done: flow.done,
    createdAt: flow.createdAt,
    nodes: flow.nodes.map((node) => ({
      ref: node.ref,
      id: node.id,
      name: node.name,
      status: node.status,
      dependsOn: node.dependsOn,
      onDependencyFailure: node.policy,
      ...(node.outcome === undefined ? {} : { outcome: node.outcome }),
    })),
  };
}
