/**
 * The public shapes of flows and batches (SPEC "Flows and batches"): what `submitFlow` and
 * `submitBatch` take and the handles they return. Store-neutral: each store builds the handles.
 */
import type { TaskStatus } from "../lifecycle/states.js";
import type { DependencyOutcome, SubmitOptions, TaskHandle } from "../types.js";

export type { DependencyOutcome } from "../types.js";

/** What a node does when one of its dependencies did not succeed. */
export type DependencyFailurePolicy = "cancel" | "run";

/** One node of `mill.submitFlow(nodes)`. */
export interface FlowNode {
  /** The node's name inside the flow: unique, referenced by other nodes' `dependsOn`. */
  readonly ref: string;
  /** The registered task name. */
  readonly name: string;
  readonly payload?: unknown;
  /** As for `submit`, except `idempotencyKey`, `signal` and `tx`, which a node cannot take. */
  readonly options?: SubmitOptions;
  /** Refs of the nodes that must end before this one starts. */
  readonly dependsOn?: readonly string[];
  /**
   * `"cancel"` (default): if a dependency does not succeed, this node ends `cancelled` (and so do
   * its own "cancel" dependents). `"run"`: it runs anyway and sees the failure in
   * `ctx.dependencies`.
   */
  readonly onDependencyFailure?: DependencyFailurePolicy;
}

/** One node as `flow.status()` shows it. */
export interface FlowNodeStatus {
  readonly ref: string;
  readonly id: string;
  readonly name: string;
  readonly status: TaskStatus;
  readonly dependsOn: readonly string[];
  readonly onDependencyFailure: DependencyFailurePolicy;
  /** Present once the node has ended. */
  readonly outcome?: DependencyOutcome;
}

/** A picture of a whole flow at one moment. */
export interface FlowSnapshot {
  readonly id: string;
  /** `"batch"` for a flow made by `submitBatch`. */
  readonly kind: "flow" | "batch";
  /** True once every node has ended. */
  readonly done: boolean;
  readonly createdAt: number;
  /** The nodes in the order they were given. */
  readonly nodes: readonly FlowNodeStatus[];
}

/** The handle of a submitted flow. */
export interface FlowHandle {
  readonly id: string;
  /** Each node's task handle, by ref. */
  readonly tasks: Readonly<Record<string, TaskHandle>>;
  /** Every node's status now. */
  status(): Promise<FlowSnapshot>;
  /** Every node's outcome by ref, once all have ended. Never rejects because a node failed. */
  result(): Promise<Record<string, DependencyOutcome>>;
}

/** One item of `mill.submitBatch(items)`. */
export interface BatchItem {
  readonly name: string;
  readonly payload?: unknown;
  readonly options?: SubmitOptions;
}

/** Options of `mill.submitBatch`. */
export interface BatchOptions {
  /**
   * A task that runs once when every item has ended (whatever their outcomes), with every
   * item's outcome in `ctx.dependencies` (keyed by the item's index, "0", "1", ...).
   */
  readonly then?: BatchItem;
}

/** How far a batch has come; the `then` task is not counted. */
export interface BatchProgress {
  readonly total: number;
  readonly succeeded: number;
  readonly failed: number;
  readonly cancelled: number;
  readonly expired: number;
  readonly running: number;
  /** Items not started yet (queued, scheduled or retrying). */
  readonly pending: number;
}

/** What `batch.result()` resolves with. */
export interface BatchResult {
  /** Each item's outcome, in the order of the items. */
  readonly items: readonly DependencyOutcome[];
  /** The `then` task's outcome, when the batch has one. */
  readonly then?: DependencyOutcome;
}

/** The handle of a submitted batch. */
export interface BatchHandle {
  readonly id: string;
  /** The items' task handles, in order. */
  readonly tasks: readonly TaskHandle[];
  /**
   * The `then` task's handle, when the batch has one (not named `then`: a handle must not look
   * like a promise to `await`).
   */
  readonly thenTask: TaskHandle | undefined;
  progress(): Promise<BatchProgress>;
  /** Resolves once every item (and `then`) has ended; never rejects on partial failure. */
  result(): Promise<BatchResult>;
}
