import {
  checkedDeadLetters,
  checkListOptions,
  checkRegistration,
  checkSubscribeOptions,
  DEFAULT_QUEUE,
  isOptionsObject,
} from "./argument-checks.js";
import { type AuditLog, createAuditLog } from "./audit/audit-log.js";
import type {
  Backend,
  DeadLetterOperations,
  ManagerHealth,
  ManagerStats,
  RegisteredHandler,
} from "./engine/backend.js";
import { DurableEngine } from "./engine/durable/durable-engine.js";
import { ScheduleSync } from "./engine/schedule-sync.js";
import {
  type SubmitManyItem,
  type SubmitManyOptions,
  validateSubmitMany,
} from "./engine/submit-many.js";
import { localWorkers, type WorkerIdentity, workerIdentity } from "./engine/worker-identity.js";
import {
  DuplicateHandlerError,
  HandlerNotFoundError,
  InvalidArgumentError,
  ShuttingDownError,
  UnsupportedError,
} from "./errors.js";
import {
  checkListener,
  TaskEventBus,
  type TaskEventListener,
  type TaskEventName,
} from "./events.js";
import type { WorkerInfo } from "./fleet.js";
import { asBatchArgument, batchNodes, FlowBatchHandle } from "./flows/batch.js";
import type {
  BatchHandle,
  BatchItem,
  BatchOptions,
  FlowHandle,
  FlowNode,
} from "./flows/flow-types.js";
import { checkFlow } from "./flows/validate-flow.js";
import { ShutdownTracker } from "./lifecycle/shutdown.js";
import { StopSequence } from "./lifecycle/stop-sequence.js";
import type { DepthSnapshot } from "./observability/metrics.js";
import { createObservability, type Observability } from "./observability/setup.js";
import {
  isValidQueueName,
  type ResolvedOptions,
  resolveOptions,
  resolveRetry,
  resolveTimeout,
  type TaskManagerOptions,
} from "./options.js";
import { ResultBroadcaster } from "./results/broadcaster.js";
import type { ResultSubscription, SubscribeOptions } from "./results/subscription.js";
import { CronScheduler, type ScheduleInfo, type ScheduleOptions } from "./scheduling/cron.js";
import { checkDurableBackend, checkDurablePayload } from "./stores/connect.js";
import { MemoryBackend } from "./stores/memory/memory-backend.js";
import { NO_SUBMIT_OPTIONS } from "./submit-options.js";
import { type TaskDefinition, taskName } from "./task-definition.js";
import type {
  HandlerOptions,
  ListOptions,
  QueueInfo,
  RunOptions,
  StopGracefulOptions,
  StopReport,
  SubmitOptions,
  TaskContext,
  TaskHandle,
  TaskHandler,
  TaskPage,
  TaskSnapshot,
} from "./types.js";
import { requireName } from "./validation.js";

/**
 * The one object a service creates: register handlers, submit tasks, watch results, stop.
 *
 * It validates, owns the handlers, events, results, schedules and the stop sequence, and leaves
 * the tasks to its backend: process memory by default, Redis with `backend: { type: "redis" }`.
 *
 * @example
 * ```ts
 * const mill = new TaskManager({ concurrency: 8 });
 * mill.register("email.send", async (payload, ctx) => sendEmail(payload, ctx.signal));
 * const task = await mill.submit("email.send", { to: "a@b.c" });
 * console.log(await task.result());
 * await mill.stopGraceful();
 * ```
 */
export class TaskManager {
  readonly #options: ResolvedOptions;
  readonly #handlers = new Map<string, RegisteredHandler>();
  #identityCache: WorkerIdentity | undefined;
  readonly #events: TaskEventBus;
  readonly #results: ResultBroadcaster;
  readonly #shutdown: ShutdownTracker;
  readonly #cron: CronScheduler;
  /** Durable mode: the store's shared schedules, mirrored into `#cron`. */
  readonly #scheduleSync: ScheduleSync | undefined;
  readonly #observability: Observability;
  readonly #backend: Backend;
  readonly #stops: StopSequence;
  /** The backend's DLQ with the checks every store shares (strict `dryRun`). */
  readonly #dlq: DeadLetterOperations;
  #audit: AuditLog | undefined;
  #deprecationWarned = false;

  /** @throws InvalidOptionError naming the first invalid option. */
  constructor(options: TaskManagerOptions = {}) {
    const resolved = resolveOptions(options);
    // A durable backend's options are checked before anything is created: a refused
    // constructor leaves no socket behind.
    if (resolved.backend.type !== "memory") checkDurableBackend(resolved.backend, resolved);
    this.#options = resolved;
    this.#events = new TaskEventBus(resolved.logger);
    this.#shutdown = new ShutdownTracker(resolved.logger);
    this.#observability = createObservability(resolved, () =>
      withWorkerSlots(
        this.#backend.depths(),
        this.#handlers.size > 0 && !this.#shutdown.stopping ? resolved.concurrency : 0,
      ),
    );
    this.#results = new ResultBroadcaster(
      (subscription, result, policy) => {
        this.#observability.resultDropped(result, policy);
        if (this.#events.wants("dropped"))
          this.#events.emit("dropped", { subscription, result, policy });
      },
      () => this.#backend.resultsFreed(),
    );
    this.#backend =
      resolved.backend.type !== "memory"
        ? new DurableEngine({
            options: resolved,
            backend: resolved.backend,
            handlers: this.#handlers,
            events: this.#events,
            results: this.#results,
            instrumentation: this.#observability.instrumentation,
            tracing: this.#observability.tracing,
            shutdown: this.#shutdown,
          })
        : new MemoryBackend({
            options: resolved,
            events: this.#events,
            results: this.#results,
            observability: this.#observability,
            shutdown: this.#shutdown,
          });
    // In durable mode only the cron leader fires ticks; the idempotency key still guards the
    // instant leadership moves (the old and the new leader may both fire that tick).
    this.#cron = new CronScheduler(
      resolved.clock,
      resolved.logger,
      (id, taskName, payload, tick, queue) =>
        this.submit(taskName, payload, {
          idempotencyKey: `schedule:${id}:${tick}`,
          ...(queue === undefined ? {} : { queue }),
        }),
      this.#backend.cronLeadership(),
    );
    const shared = this.#backend.scheduleStore?.();
    this.#scheduleSync =
      shared === undefined
        ? undefined
        : new ScheduleSync(shared, this.#cron, resolved.clock, resolved.logger);
    this.#dlq = checkedDeadLetters(this.#backend.dlq);
    this.#stops = new StopSequence({
      options: resolved,
      shutdown: this.#shutdown,
      cron: this.#cron,
      backend: this.#backend,
      results: this.#results,
      observability: this.#observability,
    });
  }

  /**
   * Registers the handler for a task name. Tasks of this name run in `options.queue`.
   *
   * @throws DuplicateHandlerError if the name already has a handler.
   * @throws InvalidOptionError for a bad retry policy, timeout or queue.
   */
  register<P, R>(
    task: TaskDefinition<P, R>,
    handler: TaskHandler<P, R>,
    options?: HandlerOptions,
  ): this;
  register<P = unknown, R = unknown>(
    name: string,
    handler: TaskHandler<P, R>,
    options?: HandlerOptions,
  ): this;
  register(
    task: string | TaskDefinition,
    handler: TaskHandler,
    options: HandlerOptions = {},
  ): this {
    const name = taskName(task) as string;
    const queue = checkRegistration(name, handler, options);
    if (this.#handlers.has(name)) throw new DuplicateHandlerError(name);
    this.#handlers.set(name, {
      handler: handler as TaskHandler,
      retry: resolveRetry(options.retry, this.#options.retry, `register("${name}").retry`),
      timeoutMs: resolveTimeout(
        options.timeoutMs,
        this.#options.timeoutMs,
        `register("${name}").timeoutMs`,
      ),
      queue,
    });
    this.#backend.handlersChanged();
    return this;
  }

  /**
   * Submits a task to the handler registered under `name`. Resolves once the task is accepted:
   * in memory mode at once, in durable mode once Redis holds it. `task.result()` gives its
   * outcome.
   *
   * @throws HandlerNotFoundError in memory mode if no handler is registered for `name`.
   * @throws ShuttingDownError once a stop has begun.
   * @throws IdempotencyConflictError if `idempotencyKey` is held by a different payload.
   * @throws InvalidArgumentError for invalid options.
   * @throws UnsupportedError for `options.tx` with a store without transactions.
   */
  submit<P, R>(
    task: TaskDefinition<P, R>,
    payload: P,
    options?: SubmitOptions,
  ): Promise<TaskHandle<R>>;
  submit<R = unknown, P = unknown>(
    name: string,
    payload?: P,
    options?: SubmitOptions,
  ): Promise<TaskHandle<R>>;
  submit<R>(
    task: string | TaskDefinition,
    payload?: unknown,
    options: SubmitOptions = NO_SUBMIT_OPTIONS,
  ): Promise<TaskHandle<R>> {
    // Not `async`: on the hot path the one resolved promise is all the caller needs to await.
    try {
      if (this.#shutdown.stopping) throw new ShuttingDownError();
      const name = (typeof task === "string" ? task : taskName(task)) as string;
      if (options?.tx !== undefined) this.#requireTransactions("submit");
      return Promise.resolve(
        this.#backend.submit<R>(name, payload, options, this.#handlers.get(name)),
      );
    } catch (error) {
      return Promise.reject(error);
    }
  }

  /**
   * Submits several tasks at once, all or nothing: if any item is invalid (its name, options or
   * idempotency key), none is stored. Durable stores write the whole batch in one round trip.
   * Resolves with the handles in the order of `items`; an item whose idempotency key names an
   * existing task gets that task's handle.
   *
   * @throws InvalidArgumentError naming the bad item (`items[2].options.priority`).
   * @throws HandlerNotFoundError in memory mode if an item names no registered handler.
   * @throws IdempotencyConflictError if an item's key is held by a different payload.
   * @throws ShuttingDownError once a stop has begun.
   * @throws UnsupportedError for `options.tx` with a store without transactions.
   */
  submitMany<R = unknown>(
    items: readonly SubmitManyItem[],
    options: SubmitManyOptions = {},
  ): Promise<TaskHandle<R>[]> {
    try {
      if (this.#shutdown.stopping) throw new ShuttingDownError();
      validateSubmitMany(items);
      if (options?.tx !== undefined) this.#requireTransactions("submitMany");
      return Promise.resolve(
        this.#backend.submitMany(items, this.#handlers, options?.tx) as
          | TaskHandle<R>[]
          | Promise<TaskHandle<R>[]>,
      );
    } catch (error) {
      return Promise.reject(error);
    }
  }

  /**
   * Submits a flow: a graph of tasks where each node starts once every node of its `dependsOn`
   * has ended, atomically (every node or none). A node whose dependency did not succeed ends
   * `cancelled` (its own "cancel" dependents too), or with `onDependencyFailure: "run"` runs and
   * sees the outcome in `ctx.dependencies`.
   *
   * @throws InvalidArgumentError naming a duplicate ref, an unknown ref, a cycle or a bad node
   *   (`nodes[2].name`); nothing is created.
   * @throws HandlerNotFoundError in memory mode if a node names no registered handler.
   * @throws ShuttingDownError once a stop has begun.
   */
  submitFlow(nodes: readonly FlowNode[]): Promise<FlowHandle> {
    try {
      if (this.#shutdown.stopping) throw new ShuttingDownError();
      const checked = checkFlow(nodes);
      return Promise.resolve(this.#backend.submitFlow(checked, this.#handlers, "flow"));
    } catch (error) {
      return Promise.reject(error);
    }
  }

  /**
   * Submits independent tasks as one batch (atomically), with an optional `then` task that runs
   * once every item has ended, whatever their outcomes, with them in `ctx.dependencies`.
   * `batch.result()` never rejects because items failed.
   *
   * @throws InvalidArgumentError naming the bad item (`items[3].name`); nothing is created.
   */
  async submitBatch(items: readonly BatchItem[], options: BatchOptions = {}): Promise<BatchHandle> {
    if (this.#shutdown.stopping) throw new ShuttingDownError();
    let checked: ReturnType<typeof checkFlow>;
    try {
      checked = checkFlow(batchNodes(items, options));
    } catch (error) {
      throw asBatchArgument(error, Array.isArray(items) ? items.length : 0);
    }
    const flow = await this.#backend.submitFlow(checked, this.#handlers, "batch");
    return new FlowBatchHandle(flow, items.length);
  }

  /** Flows and batches by id: `mill.flows.get(id)`, live or still retained. */
  readonly flows = {
    /** The flow's handle (a batch's too), or `undefined` if unknown or evicted by retention. */
    get: (id: string): Promise<FlowHandle | undefined> => {
      if (typeof id !== "string")
        return Promise.reject(new InvalidArgumentError("id", "must be a string", id));
      return this.#backend.getFlow(id);
    },
  };

  /** `tx` is for stores whose tasks live in the caller's database (Postgres). */
  #requireTransactions(call: string): void {
    if (this.#options.backend.type === "memory")
      throw new UnsupportedError(
        `${call}({ tx }) needs a store with transactions (backend { type: "postgres" }), not memory`,
      );
  }

  /**
   * Runs an ad-hoc closure as a task through the same path, limits and lifecycle as `submit`.
   * Memory mode only: closures cannot be persisted.
   */
  async run<R>(
    fn: (ctx: TaskContext) => R | Promise<R>,
    options: RunOptions = NO_SUBMIT_OPTIONS,
  ): Promise<TaskHandle<R>> {
    if (this.#shutdown.stopping) throw new ShuttingDownError();
    if (!(this.#backend instanceof MemoryBackend))
      throw new UnsupportedError(
        "run() is memory mode only: a closure cannot be stored in Redis; register a handler and submit() instead",
      );
    if (typeof fn !== "function") throw new InvalidArgumentError("fn", "must be a function", fn);
    if (!isOptionsObject(options))
      throw new InvalidArgumentError("options", "must be an object", options);
    const { name = "run", ...submitOptions } = options;
    if (typeof name !== "string" || name.length === 0)
      throw new InvalidArgumentError("name", "must be a non-empty string", name);
    const taskOptions = options === NO_SUBMIT_OPTIONS ? NO_SUBMIT_OPTIONS : submitOptions;
    return this.#backend.submit<R>(name, undefined, taskOptions, {
      handler: (_payload, ctx) => fn(ctx),
      retry: this.#options.retry,
      timeoutMs: this.#options.timeoutMs,
      queue: DEFAULT_QUEUE,
    });
  }

  /** The task's current snapshot, or `undefined` if unknown or evicted by retention. */
  get(id: string): Promise<TaskSnapshot | undefined> {
    if (typeof id !== "string")
      return Promise.reject(new InvalidArgumentError("id", "must be a string", id));
    return this.#backend.get(id);
  }

  /**
   * Cancels a task: a waiting one never starts; a running one has its signal aborted and is not
   * retried. Resolves `false` for unknown ids and tasks that already ended. Given a flow's (or
   * batch's) id, cancels every node not yet ended.
   */
  cancel(id: string): Promise<boolean> {
    if (typeof id !== "string")
      return Promise.reject(new InvalidArgumentError("id", "must be a string", id));
    return this.#backend.cancel(id);
  }

  /** Pages through known tasks (live and retained), in submission order. */
  list(options?: ListOptions): Promise<TaskPage> {
    try {
      checkListOptions(options);
    } catch (error) {
      return Promise.reject(error);
    }
    return this.#backend.list(options);
  }

  /**
   * Stops starting tasks of this queue; running ones finish. In durable mode the pause is state
   * in the store and holds for every process sharing it (each one's next claim skips the
   * queue); this process stops claiming from it at once. Resolves once the store holds it
   * (at once in memory mode); a failed write rejects (and is logged, so a call that is not
   * awaited is not silent).
   * @throws InvalidArgumentError (synchronously) for a `name` that is not a queue name
   */
  pauseQueue(name: string): Promise<void> {
    requireQueueName(name);
    return this.#settleQueueWrite("pauseQueue", name, this.#backend.pause(name));
  }

  /**
   * Lets a paused queue start tasks again, in every process sharing a durable store (waiting
   * workers are woken). Resolves once the store holds it.
   * @throws InvalidArgumentError (synchronously) for a `name` that is not a queue name
   */
  resumeQueue(name: string): Promise<void> {
    requireQueueName(name);
    return this.#settleQueueWrite("resumeQueue", name, this.#backend.resume(name));
  }

  get #identity(): WorkerIdentity {
    this.#identityCache ??= workerIdentity(this.#options.clock);
    return this.#identityCache;
  }

  #settleQueueWrite(what: string, queue: string, done: void | Promise<void>): Promise<void> {
    const written = Promise.resolve(done);
    written.catch((error: unknown) =>
      this.#options.logger.warn({ err: error, queue }, `${what} could not be written`),
    );
    return written;
  }

  /**
   * Every manager with handlers sharing this manager's store, with host, pid, start, last
   * heartbeat, version, concurrency, running, processed and failed counts and queues. A worker
   * whose heartbeats stopped (killed, frozen, cut off) is shown `state: "lost"` after
   * `registry.lostAfterMs`, then dropped after `registry.dropAfterMs`; a graceful stop removes
   * it at once. In memory mode: this process, if it has handlers.
   */
  workers(): Promise<WorkerInfo[]> {
    if (this.#backend.workers !== undefined) return this.#backend.workers();
    return Promise.resolve(
      localWorkers(
        this.#identity,
        this.#options.clock,
        this.#options.concurrency,
        this.#backend.stats(),
        this.#handlers,
      ),
    );
  }

  /**
   * Depth, waiting, running and paused, per queue that has seen a task or a pause. In durable
   * mode `depth` and `paused` are read from the store (shared by all processes); `running` is
   * this process's.
   */
  queues(): Promise<QueueInfo[]> {
    return this.#backend.queues();
  }

  /**
   * Whether the backend is reachable (always connected in memory mode) and whether a stop began:
   * what a readiness probe needs.
   */
  health(): ManagerHealth {
    return { ...this.#backend.health(), stopping: this.#shutdown.stopping };
  }

  /**
   * A plain snapshot of the manager's figures. The totals (`submitted`, `started`, `retried`,
   * `succeeded`, `failed`, `cancelled`, `expired`) count what this process did, in both modes;
   * in durable mode an outcome counts once Redis took it, and tasks the process's claims or
   * reaper sent to the DLQ as poison count as failed. `queued`, `waiting`, `live`, `retained`
   * and `deadLetters` describe tasks held in memory: 0 in durable mode, where `queues()` and
   * `dlq.list()` read them from Redis (and the metrics give the shared picture). For the
   * store's figures, the same in every process, use {@link TaskManager.sharedStats}.
   */
  stats(): ManagerStats {
    return {
      ...this.#backend.stats(),
      subscribers: this.#results.size,
      resultsDropped: this.#results.droppedTotal,
    };
  }

  /**
   * `stats()` read from the store, so every process sharing it shows the same figures: in
   * durable mode the outcome totals (`succeeded`, `failed`, `cancelled`, `expired`,
   * `retried`) are counted by the store across all processes since it was created, and
   * `running`, `queued`, `waiting`, `live`, `retained` and `deadLetters` are what it holds
   * now. `submitted`, `started`, `lateSettlements`, `subscribers` and `resultsDropped` stay
   * this process's. An API process without handlers shows the workers' outcomes. In memory
   * mode the same as `stats()`. What `GET /v1/stats` and the dashboard show.
   */
  async sharedStats(): Promise<ManagerStats> {
    return {
      ...(await this.#backend.sharedStats()),
      subscribers: this.#results.size,
      resultsDropped: this.#results.droppedTotal,
    };
  }

  /**
   * Subscribes to every task result from now on. Each subscription has its own bounded buffer;
   * no subscriber takes results from another.
   */
  subscribeResults<R = unknown>(options?: SubscribeOptions<R>): ResultSubscription<R> {
    checkSubscribeOptions(options);
    const after = options?.after;
    // Validated before subscribing, so a bad position leaves no subscription behind.
    const backfill = after === undefined ? undefined : this.#backend.backfill(after);
    const subscription = this.#results.subscribe(options);
    if (backfill !== undefined) subscription.resume(after as string, backfill);
    this.#backend.wantEvents();
    return subscription;
  }

  /** @deprecated Use `subscribeResults()`; this shim will be removed in the next release. */
  getResults<R = unknown>(): ResultSubscription<R> {
    if (!this.#deprecationWarned) {
      this.#deprecationWarned = true;
      process.emitWarning("getResults() is deprecated; use subscribeResults()", {
        type: "DeprecationWarning",
        code: "TASKMILL_GET_RESULTS",
      });
    }
    return this.subscribeResults<R>();
  }

  /** Listens to a lifecycle event. A throwing listener is logged and never breaks a task. */
  on<E extends TaskEventName>(event: E, listener: TaskEventListener<E>): this {
    checkListener(event, listener);
    this.#events.on(event, listener);
    this.#backend.wantEvents();
    return this;
  }

  /** Listens to the next occurrence of an event only. */
  once<E extends TaskEventName>(event: E, listener: TaskEventListener<E>): this {
    checkListener(event, listener);
    this.#events.once(event, listener);
    this.#backend.wantEvents();
    return this;
  }

  /** Removes a listener (or every listener of `event`). */
  off<E extends TaskEventName>(event: E, listener?: TaskEventListener<E>): this {
    checkListener(event, listener, true);
    this.#events.off(event, listener);
    return this;
  }

  /**
   * Registers a cron schedule: each tick submits `taskName` with `payload`, once per tick.
   * Re-using a `scheduleId` replaces that schedule (and resumes it). In durable mode the
   * schedule is stored (shared by every process on the store: the cron leader fires it,
   * whichever process registered it) and `taskName` may be handled by another process.
   *
   * @throws HandlerNotFoundError in memory mode if no handler is registered for `taskName`.
   * @throws InvalidArgumentError for a bad id, pattern or time zone, and in durable mode if
   *   `payload` is not JSON data.
   */
  schedule(
    scheduleId: string,
    cron: string,
    taskName: string,
    payload?: unknown,
    options?: ScheduleOptions,
  ): ScheduleInfo {
    if (this.#shutdown.stopping) throw new ShuttingDownError();
    const durable = this.#options.backend.type !== "memory";
    if (!durable && !this.#handlers.has(taskName)) throw new HandlerNotFoundError(taskName);
    if (durable) {
      requireName("taskName", taskName);
      // Each tick stores the payload: a durable store refuses what is not JSON now, not at a tick.
      checkDurablePayload("payload", payload);
    }
    // The queue travels with the schedule: the process that fires a tick may not know it.
    const queue = options?.queue ?? (durable ? this.#handlers.get(taskName)?.queue : undefined);
    const info = this.#cron.add(scheduleId, cron, taskName, payload, { ...options, queue });
    this.#scheduleSync?.saved({
      id: info.id,
      cron: info.cron,
      taskName,
      payload,
      timezone: info.timezone,
      queue,
      paused: false,
    });
    return info;
  }

  /**
   * Removes a schedule; returns false if it did not exist here. In durable mode it is removed
   * from the store too (every process stops firing it at its next sync).
   */
  unschedule(scheduleId: string): boolean {
    const removed = this.#cron.remove(scheduleId);
    this.#scheduleSync?.removed(scheduleId).catch(() => {}); // logged by the sync; the next sync shows what the store holds
    return removed;
  }

  /**
   * Pauses a schedule: its ticks pass without firing until {@link resumeSchedule} (they are
   * not caught up). In durable mode the pause is stored and holds for every process. Resolves
   * `false` for an unknown id.
   */
  pauseSchedule(scheduleId: string): Promise<boolean> {
    return this.#setSchedulePaused(scheduleId, true);
  }

  /** Resumes a paused schedule from its next tick. Resolves `false` for an unknown id. */
  resumeSchedule(scheduleId: string): Promise<boolean> {
    return this.#setSchedulePaused(scheduleId, false);
  }

  /**
   * Registered schedules with their next run and whether they are paused. In durable mode,
   * every schedule of the store (as of this process's last sync, about every second).
   */
  schedules(): ScheduleInfo[] {
    return this.#cron.list();
  }

  #setSchedulePaused(scheduleId: string, paused: boolean): Promise<boolean> {
    if (typeof scheduleId !== "string" || scheduleId.length === 0)
      return Promise.reject(
        new InvalidArgumentError("scheduleId", "must be a non-empty string", scheduleId),
      );
    if (this.#scheduleSync === undefined)
      return Promise.resolve(this.#cron.setPaused(scheduleId, paused));
    return this.#scheduleSync.setPaused(scheduleId, paused);
  }

  /** The dead-letter queue: tasks whose last attempt failed. */
  get dlq(): DeadLetterOperations {
    return this.#dlq;
  }

  /**
   * @internal The admin handler reports each answered request here
   * (`admin_request_duration_seconds`, by route template and status).
   */
  adminRequestAnswered(method: string, route: string, status: number, seconds: number): void {
    this.#observability.adminRequest(method, route, status, seconds);
  }

  /**
   * The admin audit trail: every write through the admin API (and so the CLI and dashboard),
   * hash-chained and kept in the store (in memory in memory mode), bounded by
   * `audit.maxRecords`.
   */
  get audit(): AuditLog {
    this.#audit ??= createAuditLog(this.#backend.audit, {
      maxRecords: this.#options.audit.maxRecords,
      onAdmin: this.#options.hooks?.onAdmin,
      logger: this.#options.logger,
    });
    return this.#audit;
  }

  /**
   * Stops taking work, lets running and queued tasks finish, and at the deadline (or when
   * `signal` aborts) escalates to `stopNow()`. In durable mode queued tasks stay in Redis for
   * other processes. Always resolves; repeated calls share one stop.
   */
  stopGraceful(options: StopGracefulOptions = {}): Promise<StopReport> {
    return this.#stops.graceful(options);
  }

  /**
   * Aborts everything now: waiting tasks are cancelled, running handlers have their signal
   * aborted and their tasks end `cancelled` (in durable mode they go back to Redis for another
   * process). Always resolves; repeated calls share one stop.
   */
  stopNow(): Promise<StopReport> {
    return this.#stops.now();
  }
}

function requireQueueName(name: string): void {
  if (!isValidQueueName(name))
    throw new InvalidArgumentError("queue", "must be a non-empty string", name);
}

/** The depth snapshot with this process's worker slots (`worker_slots`). */
function withWorkerSlots(
  depths: DepthSnapshot | Promise<DepthSnapshot>,
  workerSlots: number,
): DepthSnapshot | Promise<DepthSnapshot> {
  return depths instanceof Promise
    ? depths.then((snapshot) => ({ ...snapshot, workerSlots }))
    : { ...depths, workerSlots };
}
