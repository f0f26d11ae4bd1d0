/**
 * The durable engine behind the `TaskManager` facade, for every durable store: submits go to
 * the store, a worker claims what this process has handlers for and runs each attempt through
 * the one executor, and results come back to every process through the store's events feed.
 * It talks to the store only through the port (`stores/durable-store.ts`).
 */
import type {
  AuditEntry,
  AuditQuery,
  AuditRecord,
  AuditStore,
  AuditStorePage,
} from "../../audit/types.js";
import {
  BackendUnavailableError,
  CancelledError,
  NotFoundError,
  type TaskmillError,
} from "../../errors.js";
import type { TaskEventBus } from "../../events.js";
import type { WorkerInfo } from "../../fleet.js";
import type { FlowHandle } from "../../flows/flow-types.js";
import type { CheckedNode } from "../../flows/validate-flow.js";
import type { ShutdownTracker } from "../../lifecycle/shutdown.js";
import { isTerminal } from "../../lifecycle/states.js";
import type { Instrumentation } from "../../observability/instrumentation.js";
import { type Logger, silentLogger } from "../../observability/logger.js";
import type { DepthSnapshot } from "../../observability/metrics.js";
import type { ResolvedOptions } from "../../options.js";
import type {
  DeadLetterListOptions,
  DeadLetterOutcome,
  DeadLetterPage,
  DeadLetterSelector,
  ReplayOptions,
} from "../../registry/dead-letters.js";
import type { ResultBroadcaster } from "../../results/broadcaster.js";
import type { ResultBackfill } from "../../results/subscription.js";
import type { CronLeadership } from "../../scheduling/cron.js";
import type { DurableBackend } from "../../stores/connect.js";
import type { StoredFlowNode } from "../../stores/durable-flows.js";
import { DEFAULT_LEASE_MS, type DurableStore } from "../../stores/durable-store.js";
import type { JsonValue, StoredTask } from "../../stores/durable-types.js";
import { toSnapshot } from "../../stores/snapshots.js";
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
import { within } from "../within.js";
import { processedOf, queuesOf } from "../worker-identity.js";
import { CronLeader } from "./cron-leader.js";
import { DurableFlowHandle, type FlowReader } from "./flow-handle.js";
import { DurableResults } from "./results.js";
import { SharedPause } from "./shared-pause.js";
import { StoreCalls } from "./store-calls.js";
import { type Connections, StoreSession } from "./store-session.js";
import { DurableSubmitter } from "./submitter.js";
import { DurableTaskHandle } from "./task-handle.js";
import { DurableWorker } from "./worker.js";
import { toWorkerInfo, type WorkerFigures, WorkerHeartbeat } from "./worker-heartbeat.js";

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

export class DurableEngine implements Backend {
  readonly #deps: DurableEngineDeps;
  readonly #logger: Logger;
  readonly #session: StoreSession;
  readonly #pause: SharedPause;
  #heartbeat: WorkerHeartbeat | undefined;
  /** What this process did: its submits and cancels, and the outcomes its worker wrote. */
  readonly #counters = zeroCounters();
  #worker: DurableWorker | undefined;
  #cronLeader: CronLeader | undefined;

  readonly #results: DurableResults;
  readonly #calls: StoreCalls;
  readonly #submitter: DurableSubmitter;

  constructor(deps: DurableEngineDeps) {
    this.#deps = deps;
    this.#calls = new StoreCalls({
      session: () => this.#session,
      clock: deps.options.clock,
      storeName: deps.backend.type,
      callTimeoutMs: deps.backend.callTimeoutMs,
      maxPendingCalls: deps.backend.maxPendingCalls,
    });
    this.#pause = new SharedPause(this.#calls, () => this.#worker?.wake());
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
      tracing: deps.tracing,
      storeName: deps.backend.type,
      handle: (id, name, queue, signal) => this.#handle(id, name, queue, signal),
    });
    this.#results = new DurableResults(() => this.#session, {
      callTimeoutMs: deps.backend.callTimeoutMs,
      events: deps.events,
      results: deps.results,
      maxRetries: (name) => this.#maxRetries(name),
      abortLocal: (id) => this.#worker?.abortLocal(id, new CancelledError("cancel")),
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
        if (this.#deps.handlers.size > 0) this.#ensureWorker(connections).start();
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
      (connections) => this.#ensureWorker(connections).start(),
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
  async submitFlow(
    nodes: readonly CheckedNode[],
    handlers: ReadonlyMap<string, RegisteredHandler>,
    kind: "flow" | "batch",
  ): Promise<FlowHandle> {
    const flow = await this.#submitter.submitFlow(nodes, handlers, kind);
    return new DurableFlowHandle(
      flow.id,
      flow.tasks.map((node) => ({
        ref: node.ref,
        id: node.task.id,
        name: node.task.name,
        queue: node.task.queue,
      })),
      this.#flowReader,
    );
  }

  async getFlow(id: string): Promise<FlowHandle | undefined> {
    const flow = await this.#flowReader.readFlow(id);
    return flow === undefined ? undefined : new DurableFlowHandle(id, flow.nodes, this.#flowReader);
  }

  readonly #flowReader: FlowReader = {
    readFlow: (id) =>
      this.#calls.read("getFlow", async (store) =>
        store.getFlow === undefined ? undefined : store.getFlow(id),
      ),
    taskHandle: (id, name, queue) => this.#handle(id, name, queue, undefined),
  };

  /** `cancel(flowId)`: every node not yet ended, dependents first (none is released meanwhile). */
  async #cancelFlow(id: string): Promise<boolean> {
    const flow = await this.#flowReader.readFlow(id);
    if (flow === undefined || flow.done) return false;
    let any = false;
    for (const node of dependentsFirst(flow.nodes))
      if (!isTerminal(node.status) && (await this.cancel(node.id))) any = true;
    return any;
  }

  async get(id: string): Promise<TaskSnapshot | undefined> {
    const task = await this.#calls.read("get", (store) => store.get(id));
    return task === undefined ? undefined : toSnapshot(task, this.#maxRetries(task.name), true);
  }

  async list(options?: ListOptions): Promise<TaskPage> {
    return this.#page(await this.#calls.read("list", (store) => store.list(options)));
  }

  async cancel(id: string): Promise<boolean> {
    try {
      const outcome = await this.#calls.read("cancel", (store) => store.cancel(id));
      if (outcome.wasRunning) this.#worker?.abortLocal(id, new CancelledError("cancel"));
      if (outcome.cancelled) {
        this.#counters.cancelled++;
        this.#deps.shutdown.observe(id, "cancelled", 1);
      }
      return outcome.cancelled;
    } catch (error) {
      // Not a task: perhaps a flow (or batch) id.
      if (error instanceof NotFoundError) return id.startsWith("flow-") && this.#cancelFlow(id);
      throw error;
    }
  }

  /** Pauses `queue` for every process sharing the store (see {@link SharedPause}). */
  pause(queue: string): Promise<void> {
    return this.#pause.set(queue, true);
  }

  resume(queue: string): Promise<void> {
    return this.#pause.set(queue, false);
  }

  async queues(): Promise<QueueInfo[]> {
    const [depths, stored] = await this.#calls.read("queues", (store) =>
      Promise.all([store.queues(), store.pausedQueues()]),
    );
    const paused = this.#pause.overlay(stored);
    const names = new Set([...depths.map((q) => q.name), ...paused]);
    return [...names].map((name) => ({
      name,
      depth: depths.find((q) => q.name === name)?.depth ?? 0,
      waiting: 0,
      running: this.#worker?.runningIn(name) ?? 0,
      paused: paused.has(name),
      concurrency: this.#deps.options.queues.get(name)?.concurrency,
    }));
  }

  /** The worker registry, judged by the store's clock (see {@link WorkerHeartbeat}). */
  async workers(): Promise<WorkerInfo[]> {
    const { registry } = this.#deps.options;
    const { now, workers } = await this.#calls.read("workers", (store) =>
      store.listWorkers(registry.dropAfterMs),
    );
    return workers.map((worker) => toWorkerInfo(worker, now, registry));
  }

  /** The store's schedules for the manager's {@link ScheduleSync}. */
  scheduleStore(): ScheduleStorePort {
    const calls = this.#calls;
    return {
      connected: this.#session.ready.then(() => undefined),
      save: (d) =>
        calls.read("schedule", (store) =>
          store.saveSchedule({ ...d, payload: d.payload as JsonValue | undefined }),
        ),
      delete: (id) => calls.read("unschedule", (store) => store.deleteSchedule(id)),
      setPaused: (id, paused) =>
        calls.read(paused ? "pauseSchedule" : "resumeSchedule", (store) =>
          store.setSchedulePaused(id, paused),
        ),
      // The periodic sync is background work: it must not take a slot of the bound on calls
      // waiting for the store (backend.maxPendingCalls), which belongs to the application.
      list: () => this.#background("schedules", (store) => store.listSchedules()),
    };
  }

  /**
   * A background call to the store (not counted in `backend.maxPendingCalls`): rejects at once
   * when not connected, and with `BackendUnavailableError` past `backend.callTimeoutMs`.
   */
  async #background<T>(what: string, call: (store: DurableStore) => Promise<T>): Promise<T> {
    const { backend, options } = this.#deps;
    const current = this.#session.current;
    if (current === undefined)
      throw new BackendUnavailableError(`${backend.type} is not connected (${what})`);
    const running = call(current.store);
    const outcome = await within(running, backend.callTimeoutMs, options.clock);
    if (outcome.done) return running;
    throw new BackendUnavailableError(
      `no answer from ${backend.type} within ${backend.callTimeoutMs} ms (${what})`,
    );
  }

  #figures(): WorkerFigures {
    const c = this.#counters;
    return {
      concurrency: this.#deps.options.concurrency,
      running: this.running,
      processed: processedOf(c),
      failed: c.failed,
      queues: queuesOf(this.#deps.handlers),
    };
  }

  get running(): number {
    return this.#worker?.running ?? 0;
  }

  readonly audit: AuditStore = {
    appendAudit: (entry: AuditEntry, maxRecords: number): Promise<AuditRecord> =>
      this.#calls.read("audit.append", (store) => store.appendAudit(entry, maxRecords)),
    listAudit: (query: AuditQuery): Promise<AuditStorePage> =>
      this.#calls.read("audit.list", (store) => store.listAudit(query)),
  };

  readonly dlq: DeadLetterOperations = {
    list: async (options?: DeadLetterListOptions): Promise<DeadLetterPage> =>
      this.#page(await this.#calls.read("dlq.list", (store) => store.dlq.list(options))),
    replay: async (
      selector: DeadLetterSelector,
      options?: ReplayOptions,
    ): Promise<DeadLetterOutcome> =>
      this.#calls.read("dlq.replay", (store) => store.dlq.replay(selector, options)),
    purge: (selector?: DeadLetterSelector): Promise<DeadLetterOutcome> =>
      this.#calls.read("dlq.purge", (store) => store.dlq.purge(selector)),
  };

  /**
   * Graceful: stop claiming now, let running handlers finish; resolves true if they did,
   * false at the deadline (which holds even if the store never answers a claim in flight).
   */
  async drain(deadline: Promise<unknown>): Promise<boolean> {
    const worker = this.#worker;
    if (this.#session.current === undefined || worker === undefined) return true;
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

  /** Read from the store at each collection: every process reports the global backlog and DLQ. */
  async depths(): Promise<DepthSnapshot> {
    const [queues, counts] = await Promise.all([
      this.queues(),
      this.#calls.read("counts", (store) => store.counts()),
    ]);
    return { queues, deadLetters: counts.deadLetters };
  }

  /**
   * What this process did and runs now; the tasks themselves live in the store (`queues()`,
   * `dlq.list()` and the metrics give the shared picture).
   */
  stats(): BackendStats {
    return { ...NO_LOCAL_TASKS, ...this.#counters, running: this.running };
  }

  /**
   * The store's figures, the same in every process sharing it: outcome totals and the tasks
   * it holds now (running counts leases, in every process). `submitted`, `started` and
   * `lateSettlements` stay this process's own.
   */
  async sharedStats(): Promise<BackendStats> {
    const [depths, counts, totals] = await Promise.all([
      this.#calls.read("queues", (store) => store.queues()),
      this.#calls.read("counts", (store) => store.counts()),
      this.#calls.read("totals", (store) => store.totals()),
    ]);
    const queued = depths.reduce((sum, queue) => sum + queue.depth, 0);
    return {
      ...this.#counters,
      ...totals,
      running: counts.running,
      queued,
      waiting: counts.delayed,
      live: queued + counts.delayed + counts.running,
      retained: counts.finished,
      deadLetters: counts.deadLetters,
    };
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
    this.#worker?.close();
    // A graceful close leaves the registry at once (a crash is shown lost instead).
    const leaving = this.#heartbeat?.stop(true);
    await this.#session.close(Promise.all([releasing, leaving]));
  }

  /** Drops every connection at once (the store did not answer in time). Idempotent. */
  destroy(): void {
    this.#worker?.close();
    void this.#heartbeat?.stop(false);
    void this.#cronLeader?.close();
    this.#session.destroy();
  }

  #ensureWorker(connections: Connections): DurableWorker {
    if (this.#worker === undefined) {
      const { options, backend } = this.#deps;
      this.#worker = new DurableWorker({
        store: connections.store,
        waiter: connections.waiter,
        clock: options.clock,
        random: options.random,
        logger: this.#logger,
        concurrency: options.concurrency,
        queueCaps: options.queues,
        // A global rate is applied in the claim script; then it is the only limiter.
        rate: backend.globalRate === undefined ? options.rate : undefined,
        handlers: this.#deps.handlers,
        isPaused: (queue) => this.#pause.isPausing(queue),
        events: this.#deps.events,
        instrumentation: this.#deps.instrumentation,
        counters: this.#counters,
        // Live tasks stay in the store: the drain waits for the worker, not for a count.
        onFinished: (record) => this.#deps.shutdown.observe(record.id, record.status, 1),
      });
      // Only processes that run tasks reclaim expired leases.
      connections.reaper.start();
      this.#heartbeat = new WorkerHeartbeat({
        store: connections.store,
        clock: options.clock,
        logger: this.#logger,
        settings: options.registry,
        callTimeoutMs: this.#deps.backend.callTimeoutMs,
        figures: () => this.#figures(),
      });
      this.#heartbeat.start();
    }
    return this.#worker;
  }

  /** @see DurableResults.backfill */
  backfill(after: string): ResultBackfill {
    return this.#results.backfill(after);
  }

  /** Someone here started listening for results or events: make sure the reader runs. */
  wantEvents(): void {
    void this.#session.current?.feed.ensureLive();
  }

  #page(page: { readonly tasks: readonly StoredTask[]; readonly nextCursor?: string }): TaskPage {
    const tasks = page.tasks.map((task) => toSnapshot(task, this.#maxRetries(task.name)));
    return page.nextCursor === undefined ? { tasks } : { tasks, nextCursor: page.nextCursor };
  }

  /**
   * The `maxRetries` shown for a task that did not set its own: what a worker here would apply
   * (the local handler's, else this manager's default). The worker that runs it applies its own.
   */
  #maxRetries(name: string): number {
    return this.#deps.handlers.get(name)?.retry.maxRetries ?? this.#deps.options.retry.maxRetries;
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
