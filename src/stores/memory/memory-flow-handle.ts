import type { FlowHandle, FlowSnapshot } from "../../flows/flow-types.js";
import { MemoryTaskHandle } from "../../lifecycle/task-handle.js";
import type { DependencyOutcome, TaskHandle } from "../../types.js";
import type { MemoryFlow } from "./memory-flows.js";

/** `submitFlow`'s handle in memory mode: a view onto the flow's state. */
export class MemoryFlowHandle implements FlowHandle {
  readonly #flow: MemoryFlow;
  readonly tasks: Readonly<Record<string, TaskHandle>>;

  constructor(flow: MemoryFlow) {
    this.#flow = flow;
    const tasks: Record<string, TaskHandle> = {};
    for (const node of flow.nodes) tasks[node.ref] = new MemoryTaskHandle(node.record);
    this.tasks = Object.freeze(tasks);
  }

  get id(): string {
    return this.#flow.id;
  }

  async status(): Promise<FlowSnapshot> {
    return this.#flow.snapshot();
  }

  async result(): Promise<Record<string, DependencyOutcome>> {
    await this.#flow.whenDone();
    return this.#flow.outcomes();
  }
}
