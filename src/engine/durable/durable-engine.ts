/**
 * The durable engine behind the `TaskManager` facade, for every durable store: submits go to
 * the store, a worker claims what this process has handlers for and runs each attempt through
 * the one executor, and results come back to every process through the store's events feed.
 * It talks to the store only through the port (`stores/durable-store.ts`).
 */

import type { AuditStore } from "../../audit/types.js";
import { CancelledError, NotFoundError, type TaskmillError } from "../../errors.js";
import type { TaskEventBus } from "../../events.js";
import type { WorkerInfo } from "../../fleet.js";
import type { FlowHandle } from "../../flows/flow-types.js";
import type { CheckedNode } from "../../flows/validate-flow.js";
import type { ShutdownTracker } from "../../lifecycle/shutdown.js";
import type { Instrumentation } from "../../observability/instrumentation.js";
import { type Logger, silentLogger } from "../../observability/logger.js";
import type { DepthSnapshot } from "../../observability/metrics.js";
import type { ResolvedOptions } from "../../options.js";
import type { ResultBroadcaster } from "../../results/broadcaster.js";
import type { ResultBackfill } from "../../results/subscription.js";
import type { CronLeadership } from "../../scheduling/cron.js";
import type { DurableBackend } from "../../stores/connect.js";
import { DEFAULT_LEASE_MS } from "../../stores/durable-store.js";
import type {
  ListOptions,
  QueueInfo,
  SubmitOptions,
  TaskHandle,
  TaskPage,
  TaskSnapshot,
  TransactionClient,
} from "../../types.js";
import type {
  AbortOutcome,
  Backend,
  BackendHealth,
  BackendStats,
  DeadLetterOperations,
  RegisteredHandler,
} from "../backend.js";
import { zeroCounters } from "../counters.js";
import type { ScheduleStorePort } from "../schedule-sync.js";
import type { SubmitManyItem } from "../submit-many.js";
import { CronLeader } from "./cron-leader.js";
import { DurableStats } from "./durable-stats.js";
import { FleetOperations } from "./fleet-operations.js";
import { DurableFlows } from "./flow-operations.js";
import { PendingAnnouncements } from "./pending-announcements.js";
import { DurableResults } from "./results.js";
import { StoreCalls } from "./store-calls.js";
import { storedAudit, storedDeadLetters } from "./store-passthroughs.js";
import { StoreSession } from "./store-session.js";
import { DurableSubmitter } from "./submitter.js";
import { DurableTaskHandle } from "./task-handle.js";
import { TaskViews } from "./task-views.js";
import { WorkerHost } from "./worker-host.js";

export interface DurableEngineDeps {
  readonly options: ResolvedOptions;
  readonly backend: DurableBackend;
  /** The manager's handler table (read live: handlers may be registered later). */
  readonly handlers: ReadonlyMap<string, RegisteredHandler>;
  readonly events: TaskEventBus;
  readonly results: ResultBroadcaster;
  readonly instrumentation: Instrumentation;
  readonly tracing: boolean;
  readonly shutdown: ShutdownTracker;
}

export class DurableEngine implements Backend {
  /** The store's audit trail (see {@link storedAudit}). */
  readonly audit: AuditStore;
  /** The store's dead-letter queue (see {@link storedDeadLetters}). */
  readonly dlq: DeadLetterOperations;
  readonly #deps: DurableEngineDeps;
  readonly #logger: Logger;
  readonly #session: StoreSession;
  readonly #fleet: FleetOperations;
  readonly #flows: DurableFlows;
  readonly #views: TaskViews;
  readonly #stats: DurableStats;
  /** What this process did: its submits and cancels, and the outcomes its worker wrote. */
  readonly #counters = zeroCounters();
  readonly #host: WorkerHost;
  #cronLeader: CronLeader | undefined;

  readonly #results: DurableResults;
  readonly #calls: StoreCalls;
  readonly #submitter: DurableSubmitter;
  readonly #announcements = new PendingAnnouncements();

  constructor(deps: DurableEngineDeps) {
    this.#deps = deps;
    this.#calls = new StoreCalls({
      session: () => this.#session,
      clock: deps.options.clock,
      storeName: deps.backend.type,
      callTimeoutMs: deps.backend.callTimeoutMs,
      maxPendingCalls: deps.backend.maxPendingCalls,
    });
    this.#views = new TaskViews(deps.handlers, deps.options);
    this.#fleet = new FleetOperations({
      calls: this.#calls,
      session: () => this.#session,
      backend: deps.backend,
      options: deps.options,
      runningIn: (queue) => this.#host.runningIn(queue),
      resumed: () => this.#host.wake(),
    });
    this.#host = new WorkerHost({
      ...deps,
      counters: this.#counters,
      isPausing: (queue) => this.#fleet.isPausing(queue),
      announcements: this.#announcements,
    });
    this.#stats = new DurableStats({
      calls: this.#calls,
      counters: this.#counters,
      running: () => this.running,
      queues: () => this.queues(),
    });
    this.audit = storedAudit(this.#calls);
    this.dlq = storedDeadLetters(this.#calls, this.#views);
    this.#submitter = new DurableSubmitter({
      calls: this.#calls,
      reachability: () => this.#session.reachability,
      announce: {
        clock: deps.options.clock,
        retry: deps.options.retry,
        timeoutMs: deps.options.timeoutMs,
        instrumentation: deps.instrumentation,
        events: deps.events,
      },
      counters: this.#counters,
      announcements: this.#announcements,
      tracing: deps.tracing,
      storeName: deps.backend.type,
      handle: (id, name, queue, signal) => this.#handle(id, name, queue, signal),
    });
    this.#flows = new DurableFlows({
      calls: this.#calls,
      submitter: this.#submitter,
      taskHandle: (id, name, queue) => this.#handle(id, name, queue, undefined),
      cancelTask: (id) => this.cancel(id),
    });
    this.#results = new DurableResults(() => this.#session, {
      callTimeoutMs: deps.backend.callTimeoutMs,
      events: deps.events,
      results: deps.results,
      maxRetries: (name) => this.#views.maxRetries(name),
      abortLocal: (id) => this.#host.abortLocal(id, new CancelledError("cancel")),
    });
    this.#logger = deps.options.logger;
    this.#session = new StoreSession({
      backend: deps.backend,
      options: deps.options,
      logger: this.#logger,
      onEvent: (event) => this.#results.relay(event),
      needsEvents: () => this.#results.needsEvents(),
      onPoisoned: (count) => {
        // Tasks this process's reaper sent to the DLQ as poison ended here, as failures.
        this.#counters.failed += count;
      },
      onConnected: (connections) => {
        if (this.#deps.handlers.size > 0) this.#host.start(connections);
      },
      onOutage: (error, first) => reportOutage(deps, error, first),
    });
  }

  /** Resolves once connected and reading results; rejects if setup failed. */
  ready(): Promise<void> {
    return this.#session.ready.then(() => undefined);
  }

  health(): BackendHealth {
    const backend = this.#deps.backend.type;
    if (this.#session.closed) return { backend, status: "closed" };
    const current = this.#session.current;
    if (current === undefined) return { backend, status: "connecting" };
    // Open and "ready", yet silent: a frozen store (see liveness.ts).
    if (current.connection.status === "connected" && current.liveness.unresponsive)
      return { backend, status: "unresponsive" };
    return { backend, status: current.connection.status };
  }

  /** A handler was registered: make sure the worker loop runs. */
  handlersChanged(): void {
    if (this.#session.closed) return;
    this.#session.ready.then(
      (connections) => this.#host.start(connections),
      () => {},
    );
  }

  submit<R>(
    name: string,
    payload: unknown,
    options: SubmitOptions,
    handler: RegisteredHandler | undefined,
  ): Promise<TaskHandle<R>> {
    return this.#submitter.submit<R>(name, payload, options, handler);
  }

  /** All or nothing in one round trip (one script call); handles in order. */
  submitMany(
    items: readonly SubmitManyItem[],
    handlers: ReadonlyMap<string, RegisteredHandler>,
    tx?: TransactionClient,
  ): Promise<TaskHandle[]> {
    return this.#submitter.submitMany(items, handlers, tx);
  }

  #handle<R>(
    id: string,
    name: string,
    queue: string,
    signal: AbortSignal | undefined,
  ): TaskHandle<R> {
    const handle = new DurableTaskHandle<R>(id, name, queue, this);
    if (signal !== undefined) {
      const onAbort = () => void this.cancel(id).catch(() => {});
      signal.addEventListener("abort", onAbort, { once: true });
      // As in memory mode, the listener goes once the task has ended: a long-lived signal
      // shared by many submits must not collect one listener per task.
      const detach = () => signal.removeEventListener("abort", onAbort);
      handle.result().then(detach, detach);
    }
    return handle;
  }

  /** The outcome of task `id`, whichever process runs it. */
  result(id: string): Promise<unknown> {
    return this.#results.result(id);
  }

  /** A flow in one atomic store call (stores without flows refuse with UnsupportedError). */
  submitFlow(
    nodes: readonly CheckedNode[],
    handlers: ReadonlyMap<string, RegisteredHandler>,
    kind: "flow" | "batch",
  ): Promise<FlowHandle> {
    return this.#flows.submit(nodes, handlers, kind);
  }

  getFlow(id: string): Promise<FlowHandle | undefined> {
    return this.#flows.get(id);
  }

  async get(id: string): Promise<TaskSnapshot | undefined> {
    const task = await this.#calls.read("get", (store) => store.get(id));
    return task === undefined ? undefined : this.#views.snapshot(task);
  }

  async list(options?: ListOptions): Promise<TaskPage> {
    return this.#views.page(await this.#calls.read("list", (store) => store.list(options)));
  }

  async cancel(id: string): Promise<boolean> {
    try {
      const outcome = await this.#calls.read("cancel", (store) => store.cancel(id));
      if (outcome.wasRunning) this.#host.abortLocal(id, new CancelledError("cancel"));
      if (outcome.cancelled) {
        this.#counters.cancelled++;
        this.#deps.shutdown.observe(id, "cancelled", 1);
      }
      return outcome.cancelled;
    } catch (error) {
      // Not a task: perhaps a flow (or batch) id.
      if (error instanceof NotFoundError) return id.startsWith("flow-") && this.#flows.cancel(id);
      throw error;
    }
  }

  /** Pauses `queue` for every process sharing the store (see {@link FleetOperations}). */
  pause(queue: string): Promise<void> {
    return this.#fleet.pause(queue);
  }

  resume(queue: string): Promise<void> {
    return this.#fleet.resume(queue);
  }

  queues(): Promise<QueueInfo[]> {
    return this.#fleet.queues();
  }

  /** The worker registry, judged by the store's clock. */
  workers(): Promise<WorkerInfo[]> {
    return this.#fleet.workers();
  }

  /** The store's schedules for the manager's {@link ScheduleSync}. */
  scheduleStore(): ScheduleStorePort {
    return this.#fleet.scheduleStore();
  }

  get running(): number {
    return this.#host.running;
  }

  /**
   * Graceful: stop claiming now, let running handlers finish; resolves true if they did,
   * false at the deadline (which holds even if the store never answers a claim in flight).
   */
  drain(deadline: Promise<unknown>): Promise<boolean> {
    if (this.#session.current === undefined) return Promise.resolve(true);
    return this.#host.drain(deadline);
  }

  /** Now: hand running tasks back to the store for another process. Never throws. */
  abort(graceMs: number): Promise<AbortOutcome> {
    return this.#host.abort(graceMs);
  }

  /** Handlers still running after a drain that finished: their tasks ended without them. */
  unsettled(): readonly string[] {
    return this.#host.unsettled();
  }

  /** Read from the store at each collection: every process reports the global backlog and DLQ. */
  depths(): Promise<DepthSnapshot> {
    return this.#stats.depths();
  }

  /** What this process did and runs now (see {@link DurableStats.local}). */
  stats(): BackendStats {
    return this.#stats.local();
  }

  /** The store's figures, the same in every process sharing it (see {@link DurableStats.shared}). */
  sharedStats(): Promise<BackendStats> {
    return this.#stats.shared();
  }

  /** Claims do not wait for slow subscribers: results go to the stream, not through them. */
  resultsFreed(): void {}

  /**
   * The cron schedules' leader gate: the lock `{prefix}:leader:cron` with the lease as TTL,
   * contended for only while the scheduler has schedules.
   */
  cronLeadership(): CronLeadership {
    this.#cronLeader ??= new CronLeader(
      this.#session.ready.then((connections) => connections.store),
      {
        ttlMs: this.#deps.backend.leaseMs ?? DEFAULT_LEASE_MS,
        clock: this.#deps.options.clock,
        logger: this.#logger,
      },
    );
    return this.#cronLeader;
  }

  /** Closes every connection and timer of ours. Idempotent. */
  async close(): Promise<void> {
    if (this.#session.closed) return;
    // Usually released already (the scheduler stops when the stop begins); awaited before the
    // command connection closes because the release needs it.
    const releasing = this.#cronLeader?.close();
    // A graceful close leaves the registry at once (a crash is shown lost instead).
    const leaving = this.#host.close();
    await this.#session.close(Promise.all([releasing, leaving]));
  }

  /** Drops every connection at once (the store did not answer in time). Idempotent. */
  destroy(): void {
    this.#host.destroy();
    void this.#cronLeader?.close();
    this.#session.destroy();
  }

  /** @see DurableResults.backfill */
  backfill(after: string): ResultBackfill {
    return this.#results.backfill(after);
  }

  /** Someone here started listening for results or events: make sure the reader runs. */
  wantEvents(): void {
    void this.#session.current?.feed.ensureLive();
  }
}

/**
 * A store outage (or a setup that can never work) is never silent: an `error` event each time,
 * and, for a manager without a logger, one process warning (printed by Node) the first time.
 */
function reportOutage(deps: DurableEngineDeps, error: TaskmillError, first: boolean): void {
  if (deps.events.wants("error")) deps.events.emit("error", { error });
  if (first && deps.options.logger === silentLogger)
    process.emitWarning(`taskmill: ${error.message}`, { code: `TASKMILL_${error.code}` });
}
