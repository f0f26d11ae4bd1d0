/**
 * Flow and batch submission behind the facade: a batch is a flow (its items, plus its `then`
 * node) checked by the same rules, with errors renamed to the batch's items.
 */
import type { Backend, RegisteredHandler } from "../engine/backend.js";
import { InvalidArgumentError, ShuttingDownError } from "../errors.js";
import { asBatchArgument, batchNodes, FlowBatchHandle } from "../flows/batch.js";
import type {
  BatchHandle,
  BatchItem,
  BatchOptions,
  FlowHandle,
  FlowNode,
} from "../flows/flow-types.js";
import { checkFlow } from "../flows/validate-flow.js";
import type { ShutdownTracker } from "../lifecycle/shutdown.js";

export class FlowSubmission {
  constructor(
    private readonly backend: Backend,
    private readonly handlers: ReadonlyMap<string, RegisteredHandler>,
    private readonly shutdown: ShutdownTracker,
  ) {}

  /** A bad flow rejects (never throws synchronously) and creates nothing. */
  flow(nodes: readonly FlowNode[]): Promise<FlowHandle> {
    try {
      if (this.shutdown.stopping) throw new ShuttingDownError();
      const checked = checkFlow(nodes);
      return Promise.resolve(this.backend.submitFlow(checked, this.handlers, "flow"));
    } catch (error) {
      return Promise.reject(error);
    }
  }

  async batch(items: readonly BatchItem[], options: BatchOptions): Promise<BatchHandle> {
    if (this.shutdown.stopping) throw new ShuttingDownError();
    let checked: ReturnType<typeof checkFlow>;
    try {
      checked = checkFlow(batchNodes(items, options));
    } catch (error) {
      throw asBatchArgument(error, Array.isArray(items) ? items.length : 0);
    }
    const flow = await this.backend.submitFlow(checked, this.handlers, "batch");
    return new FlowBatchHandle(flow, items.length);
  }

  get(id: string): Promise<FlowHandle | undefined> {
    if (typeof id !== "string")
      return Promise.reject(new InvalidArgumentError("id", "must be a string", id));
    return this.backend.getFlow(id);
  }
}
