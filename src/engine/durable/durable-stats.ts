/**
 * The figures of a durable manager: `stats()` is what this process did and runs now (the tasks
 * themselves live in the store), `sharedStats()` and the metrics' depths are read from the
 * store, the same in every process sharing it.
 */
import type { DepthSnapshot } from "../../observability/metrics.js";
import type { QueueInfo } from "../../types.js";
import type { BackendStats } from "../backend.js";
import type { RunnerCounters } from "../counters.js";
import type { StoreCalls } from "./store-calls.js";

/** What the figures need from the engine. */
export interface DurableStatsDeps {
  readonly calls: StoreCalls;
  /** What this process did: its submits and cancels, and the outcomes its worker wrote. */
  readonly counters: RunnerCounters;
  /** Handlers running in this process now. */
  readonly running: () => number;
  /** The queues as `queues()` shows them. */
  readonly queues: () => Promise<QueueInfo[]>;
}

/**
 * The figures of `stats()` that describe the tasks held in this process's memory: none here
 * (they live in the store: `queues()` and `dlq.list()` read them).
 */
const NO_LOCAL_TASKS = Object.freeze({
  queued: 0,
  waiting: 0,
  live: 0,
  retained: 0,
  deadLetters: 0,
});

export class DurableStats {
  readonly #deps: DurableStatsDeps;

  constructor(deps: DurableStatsDeps) {
    this.#deps = deps;
  }

  /** Read from the store at each collection: every process reports the global backlog and DLQ. */
  async depths(): Promise<DepthSnapshot> {
    const [queues, counts] = await Promise.all([
      this.#deps.queues(),
      this.#deps.calls.read("counts", (store) => store.counts()),
    ]);
    return { queues, deadLetters: counts.deadLetters };
  }

  /**
   * What this process did and runs now; the tasks themselves live in the store (`queues()`,
   * `dlq.list()` and the metrics give the shared picture).
   */
  local(): BackendStats {
    return { ...NO_LOCAL_TASKS, ...this.#deps.counters, running: this.#deps.running() };
  }

  /**
   * The store's figures, the same in every process sharing it: outcome totals and the tasks
   * it holds now (running counts leases, in every process). `submitted`, `started` and
   * `lateSettlements` stay this process's own.
   */
  async shared(): Promise<BackendStats> {
    const { calls } = this.#deps;
    const [depths, counts, totals] = await Promise.all([
      calls.read("queues", (store) => store.queues()),
      calls.read("counts", (store) => store.counts()),
      calls.read("totals", (store) => store.totals()),
    ]);
    const queued = depths.reduce((sum, queue) => sum + queue.depth, 0);
    return {
      ...this.#deps.counters,
      ...totals,
      running: counts.running,
      queued,
      waiting: counts.delayed,
      live: queued + counts.delayed + counts.running,
      retained: counts.finished,
      deadLetters: counts.deadLetters,
    };
  }
}
