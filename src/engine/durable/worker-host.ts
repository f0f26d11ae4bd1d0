/**
 * This process's worker side in durable mode, started with the first handler: the claim loop,
 * its heartbeat in the worker registry and the reaper (only processes that run tasks reclaim
 * expired leases). At a stop it drains the loop, or hands its running tasks back to the store.
 */

import type { CancelledError } from "../../errors.js";
import type { TaskEventBus } from "../../events.js";
import type { ShutdownTracker } from "../../lifecycle/shutdown.js";
import type { Instrumentation } from "../../observability/instrumentation.js";
import type { ResolvedOptions } from "../../options.js";
import type { DurableBackend } from "../../stores/connect.js";
import type { AbortOutcome, RegisteredHandler } from "../backend.js";
import type { RunnerCounters } from "../counters.js";
import { processedOf, queuesOf } from "../worker-identity.js";
import type { PendingAnnouncements } from "./pending-announcements.js";
import type { Connections } from "./store-session.js";
import { DurableWorker } from "./worker.js";
import { type WorkerFigures, WorkerHeartbeat } from "./worker-heartbeat.js";

/** What the worker side needs from the engine. */
export interface WorkerHostDeps {
  readonly options: ResolvedOptions;
  readonly backend: DurableBackend;
  /** The manager's handler table (read live: handlers may be registered later). */
  readonly handlers: ReadonlyMap<string, RegisteredHandler>;
  readonly events: TaskEventBus;
  readonly instrumentation: Instrumentation;
  readonly shutdown: ShutdownTracker;
  /** What this process did: its submits and cancels, and the outcomes its worker wrote. */
  readonly counters: RunnerCounters;
  /** Whether this process must not claim from `queue` (its pause is being written). */
  readonly isPausing: (queue: string) => boolean;
  /** `queued` announcements of this process's submits a worker delivers before `started`. */
  readonly announcements: PendingAnnouncements;
}

export class WorkerHost {
  readonly #deps: WorkerHostDeps;
  #worker: DurableWorker | undefined;
  #heartbeat: WorkerHeartbeat | undefined;

  constructor(deps: WorkerHostDeps) {
    this.#deps = deps;
  }

  /** Handlers running here now. */
  get running(): number {
    return this.#worker?.running ?? 0;
  }

  runningIn(queue: string): number {
    return this.#worker?.runningIn(queue) ?? 0;
  }

  /** Starts the worker (once) or wakes it: a handler was registered, the store connected. */
  start(connections: Connections): void {
    this.#ensureWorker(connections).start();
  }

  /** A queue resumed: claim from it at once. */
  wake(): void {
    this.#worker?.wake();
  }

  /** Aborts the local attempt of `id`, if it runs here (the task was cancelled). */
  abortLocal(id: string, reason: CancelledError): void {
    this.#worker?.abortLocal(id, reason);
  }

  /**
   * Graceful: stop claiming now, let running handlers finish; resolves true if they did,
   * false at the deadline (which holds even if the store never answers a claim in flight).
   */
  async drain(deadline: Promise<unknown>): Promise<boolean> {
    const worker = this.#worker;
    if (worker === undefined) return true;
    const reached = deadline.then(() => "deadline" as const);
    const stopped = await Promise.race([
      worker.stopClaiming().then(() => "stopped" as const),
      reached,
    ]);
    if (stopped === "deadline") return false;
    const outcome = await Promise.race([worker.idle().then(() => "idle" as const), reached]);
    return outcome === "idle";
  }

  /** Now: hand running tasks back to the store for another process. Never throws. */
  async abort(graceMs: number): Promise<AbortOutcome> {
    const worker = this.#worker;
    if (worker === undefined) return { requeued: [], abandoned: [], unwritten: [] };
    try {
      const { requeued, unwritten } = await worker.handBackAll(graceMs);
      // One macrotask lets handlers that honour their signal settle before we call them abandoned.
      await new Promise((resolve) => setImmediate(resolve));
      return { requeued, abandoned: worker.unsettled(), unwritten };
    } catch {
      return { requeued: [], abandoned: worker.unsettled(), unwritten: [] };
    }
  }

  /** Handlers still running after a drain that finished: their tasks ended without them. */
  unsettled(): readonly string[] {
    return this.#worker?.unsettled() ?? [];
  }

  /**
   * Stops the worker; resolves once this process has left the registry (a graceful close
   * leaves it at once, a crash is shown lost instead).
   */
  close(): Promise<void> | undefined {
    this.#worker?.close();
    return this.#heartbeat?.stop(true);
  }

  /** Stops the worker at once, without waiting for the store. */
  destroy(): void {
    this.#worker?.close();
    void this.#heartbeat?.stop(false);
  }

  #ensureWorker(connections: Connections): DurableWorker {
    if (this.#worker === undefined) {
      const { options, backend } = this.#deps;
      this.#worker = new DurableWorker({
        store: connections.store,
        waiter: connections.waiter,
        clock: options.clock,
        random: options.random,
        logger: options.logger,
        concurrency: options.concurrency,
        queueCaps: options.queues,
        // A global rate is applied in the claim script; then it is the only limiter.
        rate: backend.globalRate === undefined ? options.rate : undefined,
        handlers: this.#deps.handlers,
        isPaused: this.#deps.isPausing,
        events: this.#deps.events,
        instrumentation: this.#deps.instrumentation,
        counters: this.#deps.counters,
        announcements: this.#deps.announcements,
        // Live tasks stay in the store: the drain waits for the worker, not for a count.
        onFinished: (record) => this.#deps.shutdown.observe(record.id, record.status, 1),
      });
      // Only processes that run tasks reclaim expired leases.
      connections.reaper.start();
      this.#heartbeat = new WorkerHeartbeat({
        store: connections.store,
        clock: options.clock,
        logger: options.logger,
        settings: options.registry,
        callTimeoutMs: backend.callTimeoutMs,
        figures: () => this.#figures(),
      });
      this.#heartbeat.start();
    }
    return this.#worker;
  }

  #figures(): WorkerFigures {
    const c = this.#deps.counters;
    return {
      concurrency: this.#deps.options.concurrency,
      running: this.running,
      processed: processedOf(c),
      failed: c.failed,
      queues: queuesOf(this.#deps.handlers),
    };
  }
}
