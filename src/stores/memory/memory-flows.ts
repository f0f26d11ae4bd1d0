/**
 * Flows in memory mode: which node waits for which, and what happens when a node ends. The
 * runner tells this class of every terminal transition of a flow's task; in the same turn it
 * releases the dependents whose last dependency just ended (`waiting` to `queued`, through the
 * one scheduling path) or cancels the "cancel" dependents of a node that did not succeed, which
 * cascades the same way. Nothing waits on a timer or a poll, so no node can be left waiting
 * once its dependencies have ended.
 *
 * Retention: a flow's task records enter the registry's retention queue only when the whole
 * flow has ended, and a released node's `ctx.dependencies` is computed from the flow's own
 * references to its dependencies' records, never looked up in the registry.
 */
import { randomUUID } from "node:crypto";
import type { CancelReason } from "../../errors.js";
import type { DependencyFailurePolicy, FlowSnapshot } from "../../flows/flow-types.js";
import type { CheckedNode } from "../../flows/validate-flow.js";
import { isTerminal } from "../../lifecycle/states.js";
import { errorInfo, type TaskRecord } from "../../lifecycle/task-record.js";
import type { Registry } from "../../registry/registry.js";
import type { DependencyOutcome } from "../../types.js";

/** What the flows need from the runner. */
export interface FlowRunner {
  /** Moves a `waiting` task on to `queued` (or `scheduled`) and into the scheduling path. */
  release(record: TaskRecord): void;
  /** Cancels a live task (any non-terminal status); false if it had already ended. */
  cancel(record: TaskRecord, reason: CancelReason, dependency?: string): boolean;
}

interface NodeState {
  readonly flow: MemoryFlow;
  readonly index: number;
  readonly ref: string;
  readonly record: TaskRecord;
  readonly dependsOn: readonly string[];
  readonly dependencies: readonly number[];
  readonly dependents: readonly number[];
  readonly policy: DependencyFailurePolicy;
  /** Dependencies that have not ended yet. */
  pending: number;
  /** Set once the node's end was seen (a DLQ replay may end a task twice). */
  ended: boolean;
}

/** One flow's state in memory. */
export class MemoryFlow {
  readonly nodes: NodeState[] = [];
  /** Nodes not yet ended. */
  remaining: number;
  finishedAt: number | undefined = undefined;
  /** Callers of `result()` waiting for the last node. */
  readonly #waiters: Array<() => void> = [];

  constructor(
    readonly id: string,
    readonly kind: "flow" | "batch",
    readonly createdAt: number,
    size: number,
  ) {
    this.remaining = size;
  }

  get done(): boolean {
    return this.remaining === 0;
  }

  /** Resolves once every node has ended. */
  whenDone(): Promise<void> {
    if (this.done) return Promise.resolve();
    return new Promise((resolve) => this.#waiters.push(resolve));
  }

  /** @internal */
  settle(): void {
    for (const resolve of this.#waiters.splice(0)) resolve();
  }

  snapshot(): FlowSnapshot {
    return {
      id: this.id,
      kind: this.kind,
      done: this.done,
      createdAt: this.createdAt,
      nodes: this.nodes.map((node) => {
        const record = node.record;
        const base = {
          ref: node.ref,
          id: record.id,
          name: record.name,
          status: record.status,
          dependsOn: node.dependsOn,
          onDependencyFailure: node.policy,
        };
        return isTerminal(record.status) ? { ...base, outcome: outcomeOf(record) } : base;
      }),
    };
  }

  /** Every node's outcome by ref (every node has ended). */
  outcomes(): Record<string, DependencyOutcome> {
    const outcomes: Record<string, DependencyOutcome> = {};
    for (const node of this.nodes) outcomes[node.ref] = outcomeOf(node.record);
    return outcomes;
  }
}

/** A terminal task's outcome as `ctx.dependencies` and `flow.result()` give it. */
export function outcomeOf(record: TaskRecord): DependencyOutcome {
  const status = record.status;
  if (status === "succeeded") return { status, value: record.value };
  if (status === "failed" || status === "cancelled" || status === "expired")
    return record.error === undefined ? { status } : { status, error: errorInfo(record.error) };
  throw new Error(`task ${record.id} has not ended (${status})`);
}

export interface MemoryFlowsDeps {
  readonly registry: Registry;
  readonly retention: { readonly ttlMs: number; readonly maxEntries: number };
  readonly now: () => number;
}

/** Every flow of a memory store, live or retained. */
export class MemoryFlows {
  readonly #deps: MemoryFlowsDeps;
  #runner!: FlowRunner;
  readonly #flows = new Map<string, MemoryFlow>();
  /** Node of each live flow task, by record (entries leave when their flow ends). */
  readonly #nodes = new Map<TaskRecord, NodeState>();
  /** Ended flows, oldest first from `#endedHead`: evicted by `retention` like task records. */
  #ended: Array<MemoryFlow | undefined> = [];
  #endedHead = 0;
  /** Ends seen while handling another one: handled in order, without recursion. */
  readonly #pending: NodeState[] = [];
  #draining = false;
  /** After a stop-now, a node whose dependencies ended is cancelled instead of queued. */
  #stopped = false;

  constructor(deps: MemoryFlowsDeps) {
    this.#deps = deps;
  }

  /** @internal Wires the runner (they refer to each other). */
  attach(runner: FlowRunner): void {
    this.#runner = runner;
  }

  /** A new flow id (never a task id: `cancel(id)` tells them apart). */
  newId(): string {
    return `flow-${randomUUID()}`;
  }

  /**
   * Records a new flow over its tasks' records (in the nodes' order), before any of them is
   * accepted: a node that ends at once must find its flow.
   */
  create(
    id: string,
    kind: "flow" | "batch",
    nodes: readonly CheckedNode[],
    records: readonly TaskRecord[],
  ): MemoryFlow {
    const flow = new MemoryFlow(id, kind, this.#deps.now(), nodes.length);
    for (const node of nodes) {
      const record = records[node.index] as TaskRecord;
      record.flowId = id;
      const state: NodeState = {
        flow,
        index: node.index,
        ref: node.ref,
        record,
        dependsOn: node.dependsOn,
        dependencies: node.dependencies,
        dependents: node.dependents,
        policy: node.onDependencyFailure,
        pending: node.dependencies.length,
        ended: false,
      };
      flow.nodes.push(state);
      this.#nodes.set(record, state);
    }
    this.#flows.set(id, flow);
    return flow;
  }

  /** The flow, live or still retained. */
  get(id: string): MemoryFlow | undefined {
    this.#evictExpired();
    return this.#flows.get(id);
  }

  /** Cancels every node not yet ended, dependents first; false if none was live. */
  cancel(id: string): boolean {
    const flow = this.get(id);
    if (flow === undefined || flow.done) return false;
    let any = false;
    // Dependents first: each is cancelled for the call, not for its cancelled dependency, and
    // no "run" dependent is released by a dependency cancelled under it.
    for (const index of reverseTopological(flow.nodes)) {
      const node = flow.nodes[index] as NodeState;
      if (!isTerminal(node.record.status) && this.#runner.cancel(node.record, "cancel")) any = true;
    }
    return any;
  }

  /** Stop-now: what would be released from now on is cancelled instead. */
  stop(): void {
    this.#stopped = true;
  }

  /** The runner saw `record` reach a terminal state. */
  ended(record: TaskRecord): void {
    const node = this.#nodes.get(record);
    if (node === undefined || node.ended) return;
    node.ended = true;
    this.#pending.push(node);
    if (this.#draining) return;
    this.#draining = true;
    // An index, not shift(): a cascade over thousands of nodes stays linear.
    try {
      for (let i = 0; i < this.#pending.length; i++) this.#resolve(this.#pending[i] as NodeState);
    } finally {
      this.#pending.length = 0;
      this.#draining = false;
    }
  }

  #resolve(node: NodeState): void {
    const flow = node.flow;
    const failed = node.record.status !== "succeeded";
    for (const index of node.dependents) {
      const dependent = flow.nodes[index] as NodeState;
      if (isTerminal(dependent.record.status)) continue;
      dependent.pending--;
      if (failed && dependent.policy === "cancel")
        this.#runner.cancel(dependent.record, "dependency", node.ref);
      else if (dependent.pending === 0) this.#release(dependent);
    }
    flow.remaining--;
    if (flow.remaining === 0) this.#flowEnded(flow);
  }

  #release(node: NodeState): void {
    const record = node.record;
    const flow = node.flow;
    const dependencies: Record<string, DependencyOutcome> = {};
    for (const index of node.dependencies) {
      const dependency = flow.nodes[index] as NodeState;
      dependencies[dependency.ref] = outcomeOf(dependency.record);
    }
    record.dependencies = dependencies;
    if (this.#stopped) this.#runner.cancel(record, "stop");
    else this.#runner.release(record);
  }

  #flowEnded(flow: MemoryFlow): void {
    flow.finishedAt = this.#deps.now();
    // Only now do the flow's records enter retention, in the order they ended.
    const records = flow.nodes
      .map((node) => node.record)
      .sort((a, b) => (a.finishedAt ?? 0) - (b.finishedAt ?? 0));
    for (const record of records) {
      this.#nodes.delete(record);
      this.#deps.registry.finished(record);
    }
    this.#ended.push(flow);
    while (this.#ended.length - this.#endedHead > this.#deps.retention.maxEntries)
      this.#evictOldest();
    flow.settle();
  }

  #evictExpired(): void {
    const now = this.#deps.now();
    const ttl = this.#deps.retention.ttlMs;
    for (
      let oldest = this.#ended[this.#endedHead];
      oldest !== undefined;
      oldest = this.#ended[this.#endedHead]
    ) {
      if ((oldest.finishedAt ?? now) + ttl > now) return;
      this.#evictOldest();
    }
  }

  #evictOldest(): void {
    const flow = this.#ended[this.#endedHead];
    if (flow === undefined) return;
    this.#ended[this.#endedHead++] = undefined;
    this.#flows.delete(flow.id);
    // Drop the evicted prefix once it is half the array: amortised O(1) per flow.
    if (this.#endedHead > 1024 && this.#endedHead * 2 > this.#ended.length) {
      this.#ended = this.#ended.slice(this.#endedHead);
      this.#endedHead = 0;
    }
  }
}

/** Node indexes with every node before its dependencies. */
function reverseTopological(nodes: readonly NodeState[]): number[] {
  const order: number[] = [];
  const seen = new Uint8Array(nodes.length);
  // Depth-first over dependents: a node is listed after all nodes that depend on it.
  const visit = (start: number) => {
    const stack: Array<[number, number]> = [[start, 0]];
    seen[start] = 1;
    while (stack.length > 0) {
      const top = stack[stack.length - 1] as [number, number];
      const dependents = (nodes[top[0]] as NodeState).dependents;
      if (top[1] < dependents.length) {
        const next = dependents[top[1]++] as number;
        if (seen[next] === 0) {
          seen[next] = 1;
          stack.push([next, 0]);
        }
      } else {
        order.push(top[0]);
        stack.pop();
      }
    }
  };
  for (let i = 0; i < nodes.length; i++) if (seen[i] === 0) visit(i);
  return order;
}
