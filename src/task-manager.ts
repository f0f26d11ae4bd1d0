import { type BackendHealth, DurableEngine } from "./backends/redis/durable/durable-engine.js";
import { DurableTaskHandle } from "./backends/redis/durable/task-handle.js";
import {
  CancelledError,
  DuplicateHandlerError,
  HandlerNotFoundError,
  InvalidArgumentError,
  InvalidOptionError,
  ShuttingDownError,
  UnsupportedError,
} from "./errors.js";
import { TaskEventBus, type TaskEventListener, type TaskEventName } from "./events.js";
import { TaskRunner } from "./lifecycle/runner.js";
import { ShutdownTracker } from "./lifecycle/shutdown.js";
import { MemoryTaskHandle } from "./lifecycle/task-handle.js";
import { TaskRecord } from "./lifecycle/task-record.js";
import { reopenFailed } from "./lifecycle/transitions.js";
import { safeLog } from "./observability/logger.js";
import type { DepthSnapshot } from "./observability/metrics.js";
import { createObservability, type Observability } from "./observability/setup.js";
import { captureTraceContext } from "./observability/tracing.js";
import {
  DEFAULTS,
  isValidQueueName,
  type ResolvedOptions,
  type RetryOptions,
  resolveOptions,
  resolveRetry,
  resolveTimeout,
  type TaskManagerOptions,
} from "./options.js";
import {
  type DeadLetterListOptions,
  type DeadLetterOutcome,
  type DeadLetterPage,
  type DeadLetterSelector,
  DeadLetters,
  type ReplayOptions,
} from "./registry/dead-letters.js";
import { Registry } from "./registry/registry.js";
import { ResultBroadcaster } from "./results/broadcaster.js";
import type { ResultSubscription, SubscribeOptions } from "./results/subscription.js";
import type { RetryPolicy } from "./retry/backoff.js";
import { Alarm } from "./scheduling/alarm.js";
import { flushMicrotasks } from "./scheduling/clock.js";
import { CronScheduler, type ScheduleInfo, type ScheduleOptions } from "./scheduling/cron.js";
import { Dispatcher } from "./scheduling/dispatcher.js";
import { type ManagerStats, validateSubmitOptions } from "./submit-options.js";
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

interface RegisteredHandler {
  readonly handler: TaskHandler;
  readonly retry: RetryPolicy;
  readonly timeoutMs: number;
  readonly queue: string;
}

const DEFAULT_QUEUE = "default";
const NO_OPTIONS: SubmitOptions = Object.freeze({});

/**
 * The one object a service creates: register handlers, submit tasks, watch results, stop.
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
  readonly #registry: Registry;
  readonly #deadLetters = new DeadLetters(DEFAULTS.retention.maxEntries);
  readonly #events: TaskEventBus;
  readonly #results: ResultBroadcaster;
  readonly #runner: TaskRunner;
  readonly #dispatcher: Dispatcher;
  readonly #shutdown: ShutdownTracker;
  readonly #retentionAlarm: Alarm;
  readonly #cron: CronScheduler;
  readonly #observability: Observability;
  /** Durable mode's engine; `undefined` in memory mode. */
  readonly #durable: DurableEngine | undefined;
  #deprecationWarned = false;

  /** @throws InvalidOptionError naming the first invalid option. */
  constructor(options: TaskManagerOptions = {}) {
    const resolved = resolveOptions(options);
    this.#options = resolved;
    this.#registry = new Registry(resolved.retention, resolved.createId);
    this.#events = new TaskEventBus(resolved.logger);
    this.#shutdown = new ShutdownTracker(resolved.logger);
    this.#observability = createObservability(resolved, () => this.#depths());
    this.#results = new ResultBroadcaster(
      (subscription, result, policy) => {
        this.#observability.resultDropped(result, policy);
        if (this.#events.wants("dropped"))
          this.#events.emit("dropped", { subscription, result, policy });
      },
      () => this.#dispatcher.pump(),
    );
    this.#runner = new TaskRunner({
      clock: resolved.clock,
      random: resolved.random,
      logger: resolved.logger,
      registry: this.#registry,
      events: this.#events,
      results: this.#results,
      instrumentation: this.#observability.instrumentation,
      onTerminal: (record) => this.#onTerminal(record),
    });
    this.#dispatcher = new Dispatcher({
      clock: resolved.clock,
      concurrency: resolved.concurrency,
      rate: resolved.rate,
      queueSettings: resolved.queues,
      start: (record) => this.#runner.start(record),
      isHeld: () => this.#results.blocked,
    });
    this.#runner.attach(this.#dispatcher);
    // Housekeeping must not keep a finished service alive: the retention timer is unref'd.
    this.#retentionAlarm = new Alarm(resolved.clock, (now) => this.#sweep(now), true);
    this.#cron = new CronScheduler(resolved.clock, resolved.logger, (id, taskName, payload, tick) =>
      this.submit(taskName, payload, { idempotencyKey: `schedule:${id}:${tick}` }),
    );
    this.#durable =
      resolved.backend.type === "redis"
        ? new DurableEngine({
            options: resolved,
            backend: resolved.backend,
            handlers: this.#handlers,
            events: this.#events,
            results: this.#results,
            instrumentation: this.#observability.instrumentation,
            tracing: this.#observability.tracing,
          })
        : undefined;
  }

  /**
   * Registers the handler for a task name. Tasks of this name run in `options.queue`.
   *
   * @throws DuplicateHandlerError if the name already has a handler.
   * @throws InvalidOptionError for a bad retry policy, timeout or queue.
   */
  register<P = unknown, R = unknown>(
    name: string,
    handler: TaskHandler<P, R>,
    options: HandlerOptions = {},
  ): this {
    if (typeof name !== "string" || name.length === 0)
      throw new InvalidArgumentError("name", "must be a non-empty string", name);
    if (typeof handler !== "function")
      throw new InvalidArgumentError("handler", "must be a function", handler);
    if (this.#handlers.has(name)) throw new DuplicateHandlerError(name);
    const queue = options.queue ?? DEFAULT_QUEUE;
    if (!isValidQueueName(queue))
      throw new InvalidOptionError(
        `register("${name}").queue`,
        "must be a non-empty string",
        queue,
      );
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
    this.#durable?.handlersChanged();
    return this;
  }

  /**
   * Submits a task to the handler registered under `name`. Resolves once the task is accepted
   * (in memory mode, at once); `task.result()` gives its outcome.
   *
   * @throws HandlerNotFoundError if no handler is registered for `name`.
   * @throws ShuttingDownError once a stop has begun.
   * @throws IdempotencyConflictError if `idempotencyKey` is held by a different payload.
   * @throws InvalidArgumentError for invalid options.
   */
  submit<R = unknown, P = unknown>(
    name: string,
    payload?: P,
    options: SubmitOptions = NO_OPTIONS,
  ): Promise<TaskHandle<R>> {
    // Not `async`: on the hot path the one resolved promise is all the caller needs to await.
    try {
      if (this.#shutdown.stopping) throw new ShuttingDownError();
      const registered = this.#handlers.get(name);
      if (this.#durable !== undefined)
        return this.#submitDurable<R>(name, payload, options, registered);
      if (registered === undefined) {
        if (typeof name !== "string" || name.length === 0)
          throw new InvalidArgumentError("name", "must be a non-empty string", name);
        throw new HandlerNotFoundError(name);
      }
      return Promise.resolve(this.#accept<R>(name, payload, options, registered));
    } catch (error) {
      return Promise.reject(error);
    }
  }

  /**
   * Runs an ad-hoc closure as a task through the same path, limits and lifecycle as `submit`.
   * Memory mode only: closures cannot be persisted.
   */
  async run<R>(
    fn: (ctx: TaskContext) => R | Promise<R>,
    options: RunOptions = NO_OPTIONS,
  ): Promise<TaskHandle<R>> {
    if (this.#shutdown.stopping) throw new ShuttingDownError();
    if (this.#durable !== undefined)
      throw new UnsupportedError(
        "run() is memory mode only: a closure cannot be stored in Redis; register a handler and submit() instead",
      );
    if (typeof fn !== "function") throw new InvalidArgumentError("fn", "must be a function", fn);
    const name = options.name ?? "run";
    if (typeof name !== "string" || name.length === 0)
      throw new InvalidArgumentError("name", "must be a non-empty string", name);
    return this.#accept<R>(name, undefined, options, {
      handler: (_payload, ctx) => fn(ctx),
      retry: this.#options.retry,
      timeoutMs: this.#options.timeoutMs,
      queue: DEFAULT_QUEUE,
    });
  }

  /** The task's current snapshot, or `undefined` if unknown or evicted by retention. */
  async get(id: string): Promise<TaskSnapshot | undefined> {
    if (this.#durable !== undefined) return this.#durable.get(id);
    return this.#registry.get(id)?.snapshot();
  }

  /**
   * Cancels a task: a waiting one never starts; a running one has its signal aborted and is not
   * retried. Resolves `false` for unknown ids and tasks that already ended.
   */
  async cancel(id: string): Promise<boolean> {
    if (this.#durable !== undefined) return this.#durable.cancel(id);
    const record = this.#registry.get(id);
    return record === undefined ? false : this.#runner.cancel(record, "cancel");
  }

  /** Pages through known tasks (live and retained), in submission order. */
  async list(options?: ListOptions): Promise<TaskPage> {
    if (this.#durable !== undefined) return this.#durable.list(options);
    return this.#registry.list(options);
  }

  /** Stops starting tasks of this queue; running ones finish. */
  pauseQueue(name: string): void {
    this.#requireQueueName(name);
    this.#dispatcher.pause(name);
    this.#durable?.pause(name);
  }

  /** Lets a paused queue start tasks again. */
  resumeQueue(name: string): void {
    this.#requireQueueName(name);
    this.#dispatcher.resume(name);
    this.#durable?.resume(name);
  }

  /**
   * Depth, waiting, running and paused, per queue that has seen a task or a pause. In durable
   * mode `depth` is read from Redis (the true backlog of all processes); `running` and `paused`
   * are this process's.
   */
  async queues(): Promise<QueueInfo[]> {
    if (this.#durable !== undefined) return this.#durable.queues();
    return this.#dispatcher.queueInfo();
  }

  /** Whether the backend is reachable: always connected in memory mode. */
  health(): BackendHealth {
    return this.#durable?.health() ?? { backend: "memory", status: "connected" };
  }

  /**
   * A plain snapshot of the manager's figures. In durable mode `running` is this process's
   * handlers; the totals count what this process ran in memory mode only (use the metrics, or
   * `queues()` and `dlq.list()`, for the shared picture).
   */
  stats(): ManagerStats {
    const counters = this.#runner.counters;
    let ready = 0;
    let waiting = 0;
    for (const queue of this.#dispatcher.queueInfo()) {
      ready += queue.depth;
      waiting += queue.waiting;
    }
    return {
      ...counters,
      running: this.#durable?.running ?? this.#dispatcher.running,
      queued: ready,
      waiting,
      live: this.#runner.live,
      retained: this.#registry.finishedCount,
      deadLetters: this.#deadLetters.size,
      subscribers: this.#results.size,
      resultsDropped: this.#results.droppedTotal,
    };
  }

  /**
   * Subscribes to every task result from now on. Each subscription has its own bounded buffer;
   * no subscriber takes results from another.
   */
  subscribeResults<R = unknown>(options?: SubscribeOptions<R>): ResultSubscription<R> {
    const subscription = this.#results.subscribe(options);
    this.#durable?.wantEvents();
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
    this.#events.on(event, listener);
    this.#durable?.wantEvents();
    return this;
  }

  /** Listens to the next occurrence of an event only. */
  once<E extends TaskEventName>(event: E, listener: TaskEventListener<E>): this {
    this.#events.once(event, listener);
    this.#durable?.wantEvents();
    return this;
  }

  /** Removes a listener (or every listener of `event`). */
  off<E extends TaskEventName>(event: E, listener?: TaskEventListener<E>): this {
    this.#events.off(event, listener);
    return this;
  }

  /**
   * Registers a cron schedule: each tick submits `taskName` with `payload`, once per tick.
   * Re-using a `scheduleId` replaces that schedule.
   */
  schedule(
    scheduleId: string,
    cron: string,
    taskName: string,
    payload?: unknown,
    options?: ScheduleOptions,
  ): ScheduleInfo {
    if (this.#shutdown.stopping) throw new ShuttingDownError();
    if (!this.#handlers.has(taskName)) throw new HandlerNotFoundError(taskName);
    return this.#cron.add(scheduleId, cron, taskName, payload, options);
  }

  /** Removes a schedule; returns false if it did not exist. */
  unschedule(scheduleId: string): boolean {
    return this.#cron.remove(scheduleId);
  }

  /** Registered schedules with their next run. */
  schedules(): ScheduleInfo[] {
    return this.#cron.list();
  }

  /** The dead-letter queue: tasks whose last attempt failed. */
  readonly dlq = {
    list: async (options?: DeadLetterListOptions): Promise<DeadLetterPage> =>
      this.#durable !== undefined
        ? this.#durable.dlq.list(options)
        : this.#deadLetters.list(options),
    replay: async (
      selector: DeadLetterSelector,
      options: ReplayOptions = {},
    ): Promise<DeadLetterOutcome> =>
      this.#durable !== undefined
        ? this.#durable.dlq.replay(selector, options)
        : this.#replay(selector, options),
    purge: async (selector: DeadLetterSelector): Promise<DeadLetterOutcome> => {
      if (this.#durable !== undefined) return this.#durable.dlq.purge(selector);
      const records = this.#deadLetters.select(selector);
      for (const record of records) this.#deadLetters.delete(record);
      return { ids: records.map((record) => record.id), skipped: [], dryRun: false };
    },
  };

  /**
   * Stops taking work, lets running and queued tasks finish, and at the deadline (or when
   * `signal` aborts) escalates to `stopNow()`. Always resolves; repeated calls share one stop.
   */
  stopGraceful(options: StopGracefulOptions = {}): Promise<StopReport> {
    if (this.#shutdown.now !== undefined) return this.#shutdown.now;
    this.#shutdown.graceful ??= this.#drain(options);
    return this.#shutdown.graceful;
  }

  /**
   * Aborts everything now: waiting tasks are cancelled, running handlers have their signal
   * aborted and their tasks end `cancelled`. Always resolves; repeated calls share one stop.
   */
  stopNow(): Promise<StopReport> {
    this.#shutdown.now ??= this.#abortAll(false);
    return this.#shutdown.now;
  }

  #accept<R>(
    name: string,
    payload: unknown,
    options: SubmitOptions,
    registered: RegisteredHandler,
  ): TaskHandle<R> {
    if (options !== NO_OPTIONS) validateSubmitOptions(options);
    const key = options.idempotencyKey;
    if (key !== undefined) {
      const existing = this.#registry.findByKey(key, name, payload);
      if (existing !== undefined) return new MemoryTaskHandle<R>(existing);
    }
    const signal = options.signal;
    if (signal?.aborted) throw new CancelledError("signal");
    const now = this.#options.clock.now();
    const runAt = resolveRunAt(options, now);
    const order = this.#registry.claimOrder();
    const record = new TaskRecord(
      this.#registry.idFor(order),
      order,
      name,
      options.queue ?? registered.queue,
      payload,
      options.priority ?? 0,
      registered.handler,
      options.retry === undefined ? registered.retry : submitRetry(options.retry, registered.retry),
      options.timeoutMs ?? registered.timeoutMs,
      now,
      runAt,
      resolveExpiresAt(options, now),
      key,
    );
    this.#registry.add(record);
    if (signal !== undefined) {
      const onAbort = () => this.#runner.cancel(record, "signal");
      signal.addEventListener("abort", onAbort, { once: true });
      record.detachSignal = () => signal.removeEventListener("abort", onAbort);
    }
    if (this.#observability.tracing) record.traceContext = captureTraceContext();
    this.#runner.accept(record);
    return new MemoryTaskHandle<R>(record);
  }

  #replay(selector: DeadLetterSelector, options: ReplayOptions): DeadLetterOutcome {
    const selected = this.#deadLetters.select(selector);
    // A task whose timed-out handler is still running stays put: replaying it now would run two
    // attempts of one task at once. It can be replayed once the handler lets go.
    const records = selected.filter(
      (record) => record.status === "failed" && record.attempt === undefined,
    );
    const skipped = selected
      .filter((record) => !records.includes(record))
      .map((record) => record.id);
    const ids = records.map((record) => record.id);
    if (options.dryRun === true) return { ids, skipped, dryRun: true };
    if (this.#shutdown.stopping) throw new ShuttingDownError();
    for (const record of records) {
      this.#deadLetters.delete(record);
      if (!reopenFailed(record)) continue;
      if (options.resetAttempts !== false) record.attempts = 0;
      if (this.#registry.get(record.id) === undefined) this.#registry.add(record);
      this.#registry.reopened(record);
      this.#runner.accept(record);
    }
    return { ids, skipped, dryRun: false };
  }

  #onTerminal(record: TaskRecord): void {
    if (record.status === "failed") this.#deadLetters.add(record);
    this.#shutdown.observe(record, this.#runner.live);
    // Records finish in time order, so an armed alarm is already due at or before this one's
    // expiry; if its record was evicted early, the sweep it triggers re-arms for the next.
    if (this.#retentionAlarm.armed || this.#shutdown.stopping) return;
    const due = this.#registry.nextExpiry();
    if (due !== undefined) this.#retentionAlarm.armAt(due);
  }

  #sweep(now: number): void {
    const next = this.#registry.sweep(now);
    if (next !== undefined) this.#retentionAlarm.armAt(next);
  }

  async #drain(options: StopGracefulOptions): Promise<StopReport> {
    // A stop must never throw: null options or a non-AbortSignal `signal` are ignored.
    const timeoutMs = validStopTimeout(options?.timeoutMs, this.#options);
    const signal = options?.signal instanceof AbortSignal ? options.signal : undefined;
    this.#shutdown.begin();
    this.#cron.stop();
    if (this.#durable !== undefined) return this.#drainDurable(this.#durable, timeoutMs, signal);
    const clock = this.#options.clock;
    let timer: unknown;
    let onAbort: (() => void) | undefined;
    const deadline = new Promise<"deadline">((resolve) => {
      timer = clock.setTimer(() => resolve("deadline"), timeoutMs);
      onAbort = () => resolve("deadline");
      if (signal?.aborted) resolve("deadline");
      else signal?.addEventListener("abort", onAbort, { once: true });
    });
    const idle = this.#shutdown.whenIdle(this.#runner.live).then(() => "idle" as const);
    const outcome = await Promise.race([idle, deadline]);
    clock.clearTimer(timer);
    if (onAbort !== undefined) signal?.removeEventListener("abort", onAbort);
    // A task that just failed at its timeout may have a handler still settling: as in stopNow,
    // one macrotask lets handlers that honour their signal finish before we call any abandoned.
    if (outcome === "idle" && this.#runner.abortedInFlight.size > 0) await flushMicrotasks();
    if (this.#shutdown.now !== undefined) return this.#shutdown.now;
    if (outcome === "deadline") {
      this.#shutdown.now = this.#abortAll(true);
      return this.#shutdown.now;
    }
    this.#release();
    const report = this.#shutdown.report(this.#abandoned(), false);
    // The manager is fully stopped: a later stopNow() returns this report instead of stopping again.
    this.#shutdown.now = Promise.resolve(report);
    return report;
  }

  async #abortAll(escalated: boolean): Promise<StopReport> {
    this.#shutdown.begin();
    this.#cron.stop();
    if (this.#durable !== undefined) return this.#abortDurable(this.#durable, escalated);
    for (const record of this.#dispatcher.close()) this.#runner.cancel(record, "stop");
    for (const record of this.#registry.live()) this.#runner.cancel(record, "stop");
    this.#runner.close();
    // One macrotask lets handlers that honour their signal settle before we call them abandoned.
    await flushMicrotasks();
    this.#release();
    return this.#shutdown.report(this.#abandoned(), escalated);
  }

  /** Drops every timer and listener of ours so the process can exit. */
  #release(): void {
    this.#dispatcher.close();
    this.#runner.close();
    this.#retentionAlarm.cancel();
    this.#results.closeAll();
    this.#observability.close(this.#options.clock.now());
    safeLog(this.#options.logger, "info", { ...this.#runner.counters }, "taskmill stopped");
  }

  /** What the queue gauges report, read at each metrics collection. */
  #depths(): DepthSnapshot | Promise<DepthSnapshot> {
    if (this.#durable !== undefined)
      return this.#durable.queues().then((queues) => ({ queues, deadLetters: 0 }));
    return { queues: this.#dispatcher.queueInfo(), deadLetters: this.#deadLetters.size };
  }

  async #submitDurable<R>(
    name: string,
    payload: unknown,
    options: SubmitOptions,
    registered: RegisteredHandler | undefined,
  ): Promise<TaskHandle<R>> {
    if (options !== NO_OPTIONS) validateSubmitOptions(options);
    if (options.signal?.aborted) throw new CancelledError("signal");
    const durable = this.#durable as DurableEngine;
    const { id, queue } = await durable.submit(name, payload, options, registered);
    const handle = new DurableTaskHandle<R>(id, name, queue, durable);
    const signal = options.signal;
    if (signal !== undefined) {
      const onAbort = () => void durable.cancel(id).catch(() => {});
      signal.addEventListener("abort", onAbort, { once: true });
      // As in memory mode, the listener goes once the task has ended: a long-lived signal
      // shared by many submits must not collect one listener per task.
      const detach = () => signal.removeEventListener("abort", onAbort);
      handle.result().then(detach, detach);
    }
    return handle;
  }

  /** Durable graceful stop: stop claiming, let running handlers finish; the rest stays in Redis. */
  async #drainDurable(
    durable: DurableEngine,
    timeoutMs: number,
    signal: AbortSignal | undefined,
  ): Promise<StopReport> {
    const clock = this.#options.clock;
    let timer: unknown;
    const deadline = new Promise<void>((resolve) => {
      timer = clock.setTimer(resolve, timeoutMs);
      if (signal?.aborted) resolve();
      else signal?.addEventListener("abort", () => resolve(), { once: true });
    });
    const drained = await durable.drain(deadline);
    clock.clearTimer(timer);
    if (this.#shutdown.now !== undefined) return this.#shutdown.now;
    if (!drained) {
      this.#shutdown.now = this.#abortDurable(durable, true);
      return this.#shutdown.now;
    }
    await durable.close();
    this.#release();
    const report = this.#shutdown.report([], false);
    this.#shutdown.now = Promise.resolve(report);
    return report;
  }

  /** Durable stop now: running tasks go back to Redis at once for another process. */
  async #abortDurable(durable: DurableEngine, escalated: boolean): Promise<StopReport> {
    const { requeued, abandoned } = await durable.handBack().catch(() => ({
      requeued: [] as string[],
      abandoned: [] as string[],
    }));
    await durable.close();
    this.#release();
    return this.#shutdown.report(abandoned, escalated, requeued);
  }

  #abandoned(): string[] {
    return [...this.#runner.abortedInFlight].map((attempt) => attempt.taskId);
  }

  #requireQueueName(name: string): void {
    if (!isValidQueueName(name))
      throw new InvalidArgumentError("queue", "must be a non-empty string", name);
  }
}

/**
 * A per-task retry override is an argument of `submit`/`run`, not a constructor option: callers
 * branch on `ERR_INVALID_ARGUMENT` for every bad submit field, so the error is re-typed.
 */
function submitRetry(partial: RetryOptions, base: RetryPolicy): RetryPolicy {
  try {
    return resolveRetry(partial, base, "retry");
  } catch (error) {
    if (!(error instanceof InvalidOptionError)) throw error;
    throw new InvalidArgumentError(error.option, error.requirement, error.value);
  }
}

function resolveRunAt(options: SubmitOptions, now: number): number | undefined {
  if (options.runAt !== undefined) {
    // A runAt already passed is due now: the task is queued, not scheduled (its events say so).
    const at = Number(options.runAt);
    return at > now ? at : undefined;
  }
  if (options.delayMs !== undefined && options.delayMs > 0) return now + options.delayMs;
  return undefined;
}

function resolveExpiresAt(options: SubmitOptions, now: number): number | undefined {
  if (options.expiresAt !== undefined) return Number(options.expiresAt);
  if (options.ttlMs !== undefined) return now + options.ttlMs;
  return undefined;
}

function validStopTimeout(timeoutMs: number | undefined, options: ResolvedOptions): number {
  if (timeoutMs === undefined) return DEFAULTS.stopTimeoutMs;
  if (typeof timeoutMs === "number" && Number.isFinite(timeoutMs) && timeoutMs >= 0)
    return timeoutMs;
  // A stop must never throw: a bad deadline falls back to the default, loudly.
  safeLog(
    options.logger,
    "warn",
    { timeoutMs },
    "taskmill stopGraceful: invalid timeoutMs, using 30000",
  );
  return DEFAULTS.stopTimeoutMs;
}
