import type { AuditLog } from "./audit/audit-log.js";
import type { DeadLetterOperations, ManagerHealth, ManagerStats } from "./engine/backend.js";
import type { SubmitManyItem, SubmitManyOptions } from "./engine/submit-many.js";
import type { TaskEventListener, TaskEventName } from "./events.js";
import type { WorkerInfo } from "./fleet.js";
import type {
  BatchHandle,
  BatchItem,
  BatchOptions,
  FlowHandle,
  FlowNode,
} from "./flows/flow-types.js";
import { assembleManager, type ManagerParts } from "./manager/assemble.js";
import { registerHandler } from "./manager/handler-registration.js";
import type { TaskManagerOptions } from "./options.js";
import type { ResultSubscription, SubscribeOptions } from "./results/subscription.js";
import type { ScheduleInfo, ScheduleOptions } from "./scheduling/cron.js";
import { NO_SUBMIT_OPTIONS } from "./submit-options.js";
import type { TaskDefinition } from "./task-definition.js";
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
  readonly #parts: ManagerParts;

  /** @throws InvalidOptionError naming the first invalid option. */
  constructor(options: TaskManagerOptions = {}) {
    this.#parts = assembleManager(options, (name, payload, opts) =>
      this.submit(name, payload, opts),
    );
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
    registerHandler(this.#parts, task, handler, options);
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
    return this.#parts.submission.submit<R>(task, payload, options);
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
    return this.#parts.submission.many<R>(items, options);
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
    return this.#parts.flows.flow(nodes);
  }

  /**
   * Submits independent tasks as one batch (atomically), with an optional `then` task that runs
   * once every item has ended, whatever their outcomes, with them in `ctx.dependencies`.
   * `batch.result()` never rejects because items failed.
   *
   * @throws InvalidArgumentError naming the bad item (`items[3].name`); nothing is created.
   */
  submitBatch(items: readonly BatchItem[], options: BatchOptions = {}): Promise<BatchHandle> {
    return this.#parts.flows.batch(items, options);
  }

  /** Flows and batches by id: `mill.flows.get(id)`, live or still retained. */
  readonly flows = {
    /** The flow's handle (a batch's too), or `undefined` if unknown or evicted by retention. */
    get: (id: string): Promise<FlowHandle | undefined> => this.#parts.flows.get(id),
  };

  /**
   * Runs an ad-hoc closure as a task through the same path, limits and lifecycle as `submit`.
   * Memory mode only: closures cannot be persisted.
   */
  run<R>(
    fn: (ctx: TaskContext) => R | Promise<R>,
    options: RunOptions = NO_SUBMIT_OPTIONS,
  ): Promise<TaskHandle<R>> {
    return this.#parts.submission.run(fn, options);
  }

  /** The task's current snapshot, or `undefined` if unknown or evicted by retention. */
  get(id: string): Promise<TaskSnapshot | undefined> {
    return this.#parts.lookup.get(id);
  }

  /**
   * Cancels a task: a waiting one never starts; a running one has its signal aborted and is not
   * retried. Resolves `false` for unknown ids and tasks that already ended. Given a flow's (or
   * batch's) id, cancels every node not yet ended.
   */
  cancel(id: string): Promise<boolean> {
    return this.#parts.lookup.cancel(id);
  }

  /** Pages through known tasks (live and retained), in submission order. */
  list(options?: ListOptions): Promise<TaskPage> {
    return this.#parts.lookup.list(options);
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
    return this.#parts.fleet.pause(name);
  }

  /**
   * Lets a paused queue start tasks again, in every process sharing a durable store (waiting
   * workers are woken). Resolves once the store holds it.
   * @throws InvalidArgumentError (synchronously) for a `name` that is not a queue name
   */
  resumeQueue(name: string): Promise<void> {
    return this.#parts.fleet.resume(name);
  }

  /**
   * Every manager with handlers sharing this manager's store, with host, pid, start, last
   * heartbeat, version, concurrency, running, processed and failed counts and queues. A worker
   * whose heartbeats stopped (killed, frozen, cut off) is shown `state: "lost"` after
   * `registry.lostAfterMs`, then dropped after `registry.dropAfterMs`; a graceful stop removes
   * it at once. In memory mode: this process, if it has handlers.
   */
  workers(): Promise<WorkerInfo[]> {
    return this.#parts.fleet.workers();
  }

  /**
   * Depth, waiting, running and paused, per queue that has seen a task or a pause. In durable
   * mode `depth` and `paused` are read from the store (shared by all processes); `running` is
   * this process's.
   */
  queues(): Promise<QueueInfo[]> {
    return this.#parts.backend.queues();
  }

  /**
   * Whether the backend is reachable (always connected in memory mode) and whether a stop began:
   * what a readiness probe needs.
   */
  health(): ManagerHealth {
    return { ...this.#parts.backend.health(), stopping: this.#parts.shutdown.stopping };
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
    return this.#parts.resultFeed.withResultFigures(this.#parts.backend.stats());
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
    return this.#parts.resultFeed.withResultFigures(await this.#parts.backend.sharedStats());
  }

  /**
   * Subscribes to every task result from now on. Each subscription has its own bounded buffer;
   * no subscriber takes results from another.
   */
  subscribeResults<R = unknown>(options?: SubscribeOptions<R>): ResultSubscription<R> {
    return this.#parts.resultFeed.subscribe(options);
  }

  /** @deprecated Use `subscribeResults()`; this shim will be removed in the next release. */
  getResults<R = unknown>(): ResultSubscription<R> {
    this.#parts.resultFeed.warnGetResultsDeprecated();
    return this.subscribeResults<R>();
  }

  /** Listens to a lifecycle event. A throwing listener is logged and never breaks a task. */
  on<E extends TaskEventName>(event: E, listener: TaskEventListener<E>): this {
    this.#parts.listeners.on(event, listener);
    return this;
  }

  /** Listens to the next occurrence of an event only. */
  once<E extends TaskEventName>(event: E, listener: TaskEventListener<E>): this {
    this.#parts.listeners.once(event, listener);
    return this;
  }

  /** Removes a listener (or every listener of `event`). */
  off<E extends TaskEventName>(event: E, listener?: TaskEventListener<E>): this {
    this.#parts.listeners.off(event, listener);
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
    return this.#parts.schedules.add(scheduleId, cron, taskName, payload, options);
  }

  /**
   * Removes a schedule; returns false if it did not exist here. In durable mode it is removed
   * from the store too (every process stops firing it at its next sync).
   */
  unschedule(scheduleId: string): boolean {
    return this.#parts.schedules.remove(scheduleId);
  }

  /**
   * Pauses a schedule: its ticks pass without firing until {@link resumeSchedule} (they are
   * not caught up). In durable mode the pause is stored and holds for every process. Resolves
   * `false` for an unknown id.
   */
  pauseSchedule(scheduleId: string): Promise<boolean> {
    return this.#parts.schedules.setPaused(scheduleId, true);
  }

  /** Resumes a paused schedule from its next tick. Resolves `false` for an unknown id. */
  resumeSchedule(scheduleId: string): Promise<boolean> {
    return this.#parts.schedules.setPaused(scheduleId, false);
  }

  /**
   * Registered schedules with their next run and whether they are paused. In durable mode,
   * every schedule of the store (as of this process's last sync, about every second).
   */
  schedules(): ScheduleInfo[] {
    return this.#parts.schedules.list();
  }

  /** The dead-letter queue: tasks whose last attempt failed. */
  get dlq(): DeadLetterOperations {
    return this.#parts.dlq;
  }

  /**
   * @internal The admin handler reports each answered request here
   * (`admin_request_duration_seconds`, by route template and status).
   */
  adminRequestAnswered(method: string, route: string, status: number, seconds: number): void {
    this.#parts.observability.adminRequest(method, route, status, seconds);
  }

  /**
   * The admin audit trail: every write through the admin API (and so the CLI and dashboard),
   * hash-chained and kept in the store (in memory in memory mode), bounded by
   * `audit.maxRecords`.
   */
  get audit(): AuditLog {
    return this.#parts.audit();
  }

  /**
   * Stops taking work, lets running and queued tasks finish, and at the deadline (or when
   * `signal` aborts) escalates to `stopNow()`. In durable mode queued tasks stay in Redis for
   * other processes. Always resolves; repeated calls share one stop.
   */
  stopGraceful(options: StopGracefulOptions = {}): Promise<StopReport> {
    return this.#parts.stops.graceful(options);
  }

  /**
   * Aborts everything now: waiting tasks are cancelled, running handlers have their signal
   * aborted and their tasks end `cancelled` (in durable mode they go back to Redis for another
   * process). Always resolves; repeated calls share one stop.
   */
  stopNow(): Promise<StopReport> {
    return this.#parts.stops.now();
  }
}
