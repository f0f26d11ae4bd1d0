/**
 * Durable mode behind the `TaskManager` facade: submits go to Redis, a worker loop claims what
 * this process has handlers for, and results come back to every process through the events
 * stream. ioredis is loaded on first use, so memory-mode users never need it installed.
 */
import { randomUUID } from "node:crypto";
import type { Redis } from "ioredis";
import {
  BackendUnavailableError,
  CancelledError,
  ExpiredError,
  InvalidArgumentError,
  NotFoundError,
  TaskFailedError,
} from "../../../errors.js";
import type { TaskEventBus } from "../../../events.js";
import { zeroCounters } from "../../../lifecycle/runner.js";
import { isTerminal } from "../../../lifecycle/states.js";
import { TaskRecord } from "../../../lifecycle/task-record.js";
import type { Instrumentation } from "../../../observability/instrumentation.js";
import { type Logger, safeLog } from "../../../observability/logger.js";
import type { DepthSnapshot } from "../../../observability/metrics.js";
import { injectTraceContext } from "../../../observability/tracing.js";
import { defaultBurst, type ResolvedOptions, type ResolvedRedisBackend } from "../../../options.js";
import type {
  DeadLetterListOptions,
  DeadLetterOutcome,
  DeadLetterPage,
  DeadLetterSelector,
  ReplayOptions,
} from "../../../registry/dead-letters.js";
import type { ResultBroadcaster } from "../../../results/broadcaster.js";
import { isStreamId } from "../../../results/stream-id.js";
import type { ResultBackfill } from "../../../results/subscription.js";
import { withMaxRetries } from "../../../retry/policy.js";
import type { CronLeadership } from "../../../scheduling/cron.js";
import { NO_SUBMIT_OPTIONS, validateSubmitOptions } from "../../../submit-options.js";
import type {
  ListOptions,
  QueueInfo,
  SubmitOptions,
  TaskHandle,
  TaskPage,
  TaskSnapshot,
} from "../../../types.js";
import type {
  AbortOutcome,
  Backend,
  BackendHealth,
  BackendStats,
  DeadLetterOperations,
} from "../../backend.js";
import { STORE_DEFAULTS } from "../options.js";
import { Reaper } from "../reaper.js";
import { RedisStore } from "../redis-store.js";
import { toSnapshot } from "../snapshots.js";
import type { JsonValue, StoredTask, TaskEvent } from "../types.js";
import type { WorkWaiter } from "../waiter.js";
import { CronLeader } from "./cron-leader.js";
import { ResultFeed, readResultsAfter, resultOf } from "./result-feed.js";
import { DurableTaskHandle } from "./task-handle.js";
import { DurableWorker, type WorkerHandler } from "./worker.js";

export interface DurableEngineDeps {
  readonly options: ResolvedOptions;
  readonly backend: ResolvedRedisBackend;
  /** The manager's handler table (read live: handlers may be registered later). */
  readonly handlers: ReadonlyMap<string, WorkerHandler>;
  readonly events: TaskEventBus;
  readonly results: ResultBroadcaster;
  readonly instrumentation: Instrumentation;
  readonly tracing: boolean;
}

/** Longest a call waits for a first connection before failing with BackendUnavailableError. */
const CONNECT_WAIT_MS = 10_000;

/** How often a waiting `result()` re-reads its task, in case its event was trimmed away. */
const RESULT_RECHECK_MS = 5_000;

/**
 * The figures of `stats()` that describe the tasks held in this process's memory: none here
 * (they live in Redis: `queues()` and `dlq.list()` read them).
 */
const NO_LOCAL_TASKS = Object.freeze({
  queued: 0,
  waiting: 0,
  live: 0,
  retained: 0,
  deadLetters: 0,
});

interface Connections {
  readonly redis: Redis;
  readonly store: RedisStore;
  readonly feed: ResultFeed;
  readonly waiter: WorkWaiter;
  readonly reaper: Reaper;
}

export class DurableEngine implements Backend {
  readonly #deps: DurableEngineDeps;
  readonly #logger: Logger;
  readonly #ready: Promise<Connections>;
  readonly #paused = new Set<string>();
  /** What this process did: its submits and cancels, and the outcomes its worker wrote. */
  readonly #counters = zeroCounters();
  #connections: Connections | undefined;
  /** Clients created while connecting, closed by `close()` if Redis never answered. */
  #pending: Redis[] = [];
  #worker: DurableWorker | undefined;
  #cronLeader: CronLeader | undefined;
  #closed = false;

  constructor(deps: DurableEngineDeps) {
    this.#deps = deps;
    this.#logger = deps.options.logger;
    this.#ready = this.#connect();
    // Failures surface on the first call that needs Redis; never as an unhandled rejection.
    this.#ready.catch((error: unknown) =>
      safeLog(this.#logger, "error", { err: error }, "taskmill could not set up the Redis backend"),
    );
  }

  /** Resolves once connected and reading results; rejects if setup failed. */
  ready(): Promise<void> {
    return this.#ready.then(() => undefined);
  }

  health(): BackendHealth {
    const status = this.#connections?.redis.status;
    if (this.#closed || status === "end" || status === "close")
      return { backend: "redis", status: "closed" };
    if (status === "ready") return { backend: "redis", status: "connected" };
    if (status === "reconnecting") return { backend: "redis", status: "reconnecting" };
    return { backend: "redis", status: "connecting" };
  }

  /** A handler was registered: make sure the worker loop runs. */
  handlersChanged(): void {
    if (this.#closed) return;
    this.#ready.then(
      (connections) => this.#ensureWorker(connections).start(),
      () => {},
    );
  }

  async submit<R>(
    name: string,
    payload: unknown,
    options: SubmitOptions,
    handler: WorkerHandler | undefined,
  ): Promise<TaskHandle<R>> {
    if (options !== NO_SUBMIT_OPTIONS) validateSubmitOptions(options);
    const signal = options.signal;
    if (signal?.aborted) throw new CancelledError("signal");
    const { id, queue } = await this.#enqueue(name, payload, options, handler);
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

  async #enqueue(
    name: string,
    payload: unknown,
    options: SubmitOptions,
    handler: WorkerHandler | undefined,
  ): Promise<{ id: string; queue: string }> {
    const { store, redis, feed } = await this.#connected();
    // A subscriber or listener made before this submit must see its result: make sure the
    // result reader is live (its starting point fixed) before the task exists.
    await feed.ensureLive();
    if (redis.status !== "ready")
      throw new BackendUnavailableError(`connection is ${redis.status}`);
    const queue = options.queue ?? handler?.queue ?? "default";
    const retry = jsonRetry(options.retry);
    // Only the submit's own overrides travel with the task: the worker that runs it applies its
    // handler's retry policy (or its manager's) to the rest, as in memory mode. Stamping this
    // process's defaults here would let a producer without handlers override the worker's.
    const maxRetries = options.retry?.maxRetries;
    const runAt = options.runAt === undefined ? undefined : Number(options.runAt);
    const expiresAt = options.expiresAt === undefined ? undefined : Number(options.expiresAt);
    const meta: JsonValue | undefined = this.#deps.tracing ? traceMeta() : undefined;
    let result: Awaited<ReturnType<RedisStore["enqueue"]>>;
    try {
      result = await store.enqueue({
        id: randomUUID(),
        name,
        queue,
        payload,
        priority: options.priority ?? 0,
        ...(runAt !== undefined ? { runAt } : options.delayMs ? { delayMs: options.delayMs } : {}),
        ...(expiresAt !== undefined
          ? { expiresAt }
          : options.ttlMs !== undefined
            ? { ttlMs: options.ttlMs }
            : {}),
        ...(options.idempotencyKey === undefined ? {} : { idempotencyKey: options.idempotencyKey }),
        ...(maxRetries === undefined ? {} : { maxRetries }),
        ...(options.timeoutMs === undefined ? {} : { timeoutMs: options.timeoutMs }),
        ...(retry === undefined ? {} : { retry }),
        ...(meta === undefined ? {} : { meta }),
      });
    } catch (error) {
      if (isConnectionError(error))
        throw new BackendUnavailableError((error as Error).message, { cause: error });
      throw error;
    }
    if (result.created) {
      this.#counters.submitted++;
      this.#announce(result.id, name, queue, payload, options, maxRetries, handler);
    }
    return { id: result.id, queue };
  }

  /** `queued` for this process's metrics, hooks, logs and listeners (the submit happened here). */
  #announce(
    id: string,
    name: string,
    queue: string,
    payload: unknown,
    options: SubmitOptions,
    maxRetries: number | undefined,
    handler: WorkerHandler | undefined,
  ): void {
    const { options: resolved, instrumentation, events } = this.#deps;
    const now = resolved.clock.now();
    const runAt =
      options.runAt !== undefined
        ? Number(options.runAt)
        : options.delayMs
          ? now + options.delayMs
          : undefined;
    const record = new TaskRecord(
      id,
      -1,
      name,
      queue,
      payload,
      options.priority ?? 0,
      handler?.handler ?? notHere,
      withMaxRetries(handler?.retry ?? resolved.retry, maxRetries),
      options.timeoutMs ?? handler?.timeoutMs ?? resolved.timeoutMs,
      now,
      runAt,
      undefined,
      options.idempotencyKey,
    );
    instrumentation.queued(record);
    if (events.wants("queued")) events.emit("queued", { task: record.snapshot() });
  }

  /** The outcome of task `id`, whichever process runs it. */
  async result(id: string): Promise<unknown> {
    const { store, feed } = await this.#connected();
    const waiting = feed.waitFor(id);
    await feed.ensureLive();
    let timer: ReturnType<typeof setInterval> | undefined;
    const check = async () => {
      const task = await store.get(id).catch(() => undefined);
      if (task !== undefined && isTerminal(task.status)) feed.settle(storedEvent(task));
      else if (task === undefined) feed.settle(missingEvent(id));
    };
    try {
      await check();
      timer = setInterval(() => void check(), RESULT_RECHECK_MS);
      timer.unref();
      const event = await waiting.promise;
      return outcomeOf(event);
    } finally {
      clearInterval(timer);
      waiting.cancel();
    }
  }

  async get(id: string): Promise<TaskSnapshot | undefined> {
    const { store } = await this.#connected();
    const task = await store.get(id);
    return task === undefined ? undefined : toSnapshot(task, this.#maxRetries(task.name));
  }

  async list(options?: ListOptions): Promise<TaskPage> {
    const { store } = await this.#connected();
    const page = await store.list(options);
    return this.#page(page);
  }

  async cancel(id: string): Promise<boolean> {
    const { store } = await this.#connected();
    try {
      const outcome = await store.cancel(id);
      if (outcome.wasRunning) this.#worker?.abortLocal(id, new CancelledError("cancel"));
      if (outcome.cancelled) this.#counters.cancelled++;
      return outcome.cancelled;
    } catch (error) {
      if (error instanceof NotFoundError) return false;
      throw error;
    }
  }

  pause(queue: string): void {
    this.#paused.add(queue);
  }

  resume(queue: string): void {
    this.#paused.delete(queue);
    this.#worker?.wake();
  }

  async queues(): Promise<QueueInfo[]> {
    const { store } = await this.#connected();
    const depths = await store.queues();
    const names = new Set([...depths.map((q) => q.name), ...this.#paused]);
    return [...names].map((name) => ({
      name,
      depth: depths.find((q) => q.name === name)?.depth ?? 0,
      waiting: 0,
      running: this.#worker?.runningIn(name) ?? 0,
      paused: this.#paused.has(name),
      concurrency: this.#deps.options.queues.get(name)?.concurrency,
    }));
  }

  get running(): number {
    return this.#worker?.running ?? 0;
  }

  readonly dlq: DeadLetterOperations = {
    list: async (options?: DeadLetterListOptions): Promise<DeadLetterPage> => {
      const { store } = await this.#connected();
      return this.#page(await store.dlq.list(options));
    },
    replay: async (
      selector: DeadLetterSelector,
      options?: ReplayOptions,
    ): Promise<DeadLetterOutcome> => {
      const { store } = await this.#connected();
      return store.dlq.replay(selector, options);
    },
    purge: async (selector?: DeadLetterSelector): Promise<DeadLetterOutcome> => {
      const { store } = await this.#connected();
      return store.dlq.purge(selector);
    },
  };

  /** Graceful: stop claiming now, let running handlers finish; resolves true if they did. */
  async drain(deadline: Promise<unknown>): Promise<boolean> {
    const connections = this.#connections;
    const worker = this.#worker;
    if (connections === undefined || worker === undefined) return true;
    await worker.stopClaiming();
    const outcome = await Promise.race([
      worker.idle().then(() => "idle" as const),
      deadline.then(() => "deadline" as const),
    ]);
    return outcome === "idle";
  }

  /** Now: hand running tasks back to Redis for another process. Never throws. */
  async abort(): Promise<AbortOutcome> {
    const worker = this.#worker;
    if (worker === undefined) return { requeued: [], abandoned: [] };
    try {
      await worker.stopClaiming();
      const requeued = await worker.handBackAll();
      await new Promise((resolve) => setImmediate(resolve));
      return { requeued, abandoned: worker.unsettled() };
    } catch {
      return { requeued: [], abandoned: worker.unsettled() };
    }
  }

  /** A drain that finished left nothing running. */
  unsettled(): readonly string[] {
    return [];
  }

  /** Read from Redis at each collection: every process reports the global backlog and DLQ. */
  async depths(): Promise<DepthSnapshot> {
    const [queues, counts] = await Promise.all([
      this.queues(),
      this.#connected().then(({ store }) => store.counts()),
    ]);
    return { queues, deadLetters: counts.deadLetters };
  }

  /**
   * What this process did and runs now; the tasks themselves live in Redis (`queues()`,
   * `dlq.list()` and the metrics give the shared picture).
   */
  stats(): BackendStats {
    return { ...NO_LOCAL_TASKS, ...this.#counters, running: this.running };
  }

  /** Claims do not wait for slow subscribers: results go to the stream, not through them. */
  resultsFreed(): void {}

  /**
   * The cron schedules' leader gate: the lock `{prefix}:leader:cron` with the lease as TTL,
   * contended for only while the scheduler has schedules.
   */
  cronLeadership(): CronLeadership {
    this.#cronLeader ??= new CronLeader(
      this.#ready.then((connections) => connections.store),
      {
        ttlMs: this.#deps.backend.leaseMs ?? STORE_DEFAULTS.leaseMs,
        clock: this.#deps.options.clock,
        logger: this.#logger,
      },
    );
    return this.#cronLeader;
  }

  /** Closes every connection and timer of ours. Idempotent. */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    // Usually released already (the scheduler stops when the stop begins); awaited here
    // because the release needs the connection quit below.
    const releasing = this.#cronLeader?.close();
    const connections = this.#connections;
    if (connections === undefined) {
      // Never connected: drop the sockets and return. ioredis may never settle the commands it
      // queued while offline, so the connect attempt is abandoned, not awaited; it holds no
      // socket or timer once its clients are disconnected.
      for (const connection of this.#pending) connection.disconnect();
      return;
    }
    this.#worker?.close();
    connections.reaper.stop();
    connections.waiter.close();
    await connections.feed.stop();
    await releasing;
    await connections.redis.quit().catch(() => connections.redis.disconnect());
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
        isPaused: (queue) => this.#paused.has(queue),
        events: this.#deps.events,
        instrumentation: this.#deps.instrumentation,
        counters: this.#counters,
      });
      connections.reaper.start();
    }
    return this.#worker;
  }

  /** The connections, or `BackendUnavailableError` if Redis has not answered in time. */
  #connected(): Promise<Connections> {
    if (this.#connections !== undefined) return Promise.resolve(this.#connections);
    let timer: ReturnType<typeof setTimeout> | undefined;
    const timeout = new Promise<never>((_resolve, reject) => {
      timer = setTimeout(
        () =>
          reject(new BackendUnavailableError(`no answer from Redis within ${CONNECT_WAIT_MS} ms`)),
        CONNECT_WAIT_MS,
      );
    });
    return Promise.race([this.#ready, timeout]).finally(() => clearTimeout(timer));
  }

  async #connect(): Promise<Connections> {
    const { backend, options } = this.#deps;
    const { Redis } = await import("ioredis");
    const redis =
      backend.connection !== undefined
        ? (backend.connection as Redis).duplicate()
        : // No auto-pipelining: measured, it deferred every write to the next check phase,
          // tripled the p99 enqueue-to-start latency and won no throughput once the result
          // reader stopped running in processes that do not need it.
          new Redis(backend.url as string);
    redis.on("error", (error: unknown) =>
      safeLog(this.#logger, "warn", { err: error }, "taskmill Redis connection error"),
    );
    const store = new RedisStore(redis, {
      ...(backend.prefix === undefined ? {} : { prefix: backend.prefix }),
      ...(backend.leaseMs === undefined ? {} : { leaseMs: backend.leaseMs }),
      ...(backend.maxDeliveries === undefined ? {} : { maxDeliveries: backend.maxDeliveries }),
      ...(backend.globalRate === undefined
        ? {}
        : {
            globalRate: {
              perSecond: backend.globalRate.perSecond,
              burst:
                backend.globalRate.burst ??
                defaultBurst(options.concurrency, backend.globalRate.perSecond),
            },
          }),
      retention: options.retention,
      ...(backend.deadLetters === undefined ? {} : { deadLetters: backend.deadLetters }),
    });
    const feedConnection = redis.duplicate();
    this.#pending = [redis, feedConnection];
    const feed: ResultFeed = new ResultFeed(
      feedConnection,
      store.keys.events,
      this.#logger,
      (event) => this.#onEvent(event),
      () => this.#needsEvents(feed),
    );
    // Redis may be down at start: keep trying (ioredis reconnects meanwhile) until it answers
    // or the manager stops; callers wait at most CONNECT_WAIT_MS each.
    for (let delay = 100; ; delay = Math.min(delay * 2, 2_000)) {
      if (this.#closed)
        throw new BackendUnavailableError("the manager stopped before Redis answered");
      try {
        // Ready only once the command connection is too: `submit` refuses a connection that is
        // not "ready" (fail fast on connection loss), so a submit right after construction must
        // not find it still in its handshake ("connect") because the feed's was faster.
        await redis.ping();
        await feed.start();
        break;
      } catch (error) {
        safeLog(this.#logger, "warn", { err: error }, "taskmill cannot reach Redis yet; retrying");
        await new Promise((resolve) => setTimeout(resolve, delay).unref());
      }
    }
    if (this.#closed) {
      // Stopped while the last handshake was answering: do not keep what it opened.
      redis.disconnect();
      feedConnection.disconnect();
      throw new BackendUnavailableError("the manager stopped before Redis answered");
    }
    const waiter = store.createWaiter();
    const reaper = new Reaper(store, {
      // Tasks this process's reaper sent to the DLQ as poison ended here, as failures.
      onPass: (pass) => {
        this.#counters.failed += pass.poisoned;
      },
      onError: (error) =>
        safeLog(this.#logger, "warn", { err: error }, "taskmill lease reclaim failed; retrying"),
    });
    this.#connections = { redis, store, feed, waiter, reaper };
    if (this.#deps.handlers.size > 0 && !this.#closed)
      this.#ensureWorker(this.#connections).start();
    return this.#connections;
  }

  /**
   * For `subscribeResults({ after })`: reads what the events stream retains after a position.
   * Each read first waits for the live reader to fix its starting point, so the replay's last
   * read ends past it and the subscription's join has no gap.
   *
   * @throws InvalidArgumentError if `after` is not a stream position.
   */
  backfill(after: string): ResultBackfill {
    if (!isStreamId(after))
      throw new InvalidArgumentError(
        "after",
        'must be a result\'s eventId (an events-stream id such as "1700000000000-0")',
        after,
      );
    return {
      read: async (from, count) => {
        const { redis, store, feed } = await this.#connected();
        await feed.ensureLive();
        try {
          // One XREAD per page: a large subscriber buffer must not become one huge reply.
          return await readResultsAfter(redis, store.keys.events, from, Math.min(count, 1_000));
        } catch (error) {
          if (isConnectionError(error))
            throw new BackendUnavailableError((error as Error).message, { cause: error });
          throw error;
        }
      },
    };
  }

  /** Someone here started listening for results or events: make sure the reader runs. */
  wantEvents(): void {
    void this.#connections?.feed.ensureLive();
  }

  #needsEvents(feed: ResultFeed): boolean {
    const events = this.#deps.events;
    return (
      this.#deps.results.size > 0 ||
      feed.hasWaiters ||
      events.wants("succeeded") ||
      events.wants("failed") ||
      events.wants("cancelled") ||
      events.wants("expired") ||
      events.wants("retrying")
    );
  }

  #onEvent(event: TaskEvent): void {
    const events = this.#deps.events;
    if (event.status === "cancelled")
      this.#worker?.abortLocal(event.id, new CancelledError("cancel"));
    const result = resultOf(event);
    if (result !== undefined) {
      if (this.#deps.results.size > 0) this.#deps.results.publish(result);
      const status = result.status;
      if (events.wants(status)) {
        const task = eventSnapshot(event, this.#maxRetries(event.name));
        if (status === "succeeded") events.emit("succeeded", { task, value: result.value });
        else if (status === "failed")
          events.emit("failed", {
            task,
            error: result.error ?? { name: "Error", message: "failed" },
          });
        else if (status === "cancelled") events.emit("cancelled", { task, reason: "cancel" });
        else events.emit("expired", { task });
      }
    } else if (event.status === "retrying" && events.wants("retrying")) {
      events.emit("retrying", {
        task: eventSnapshot(event, this.#maxRetries(event.name)),
        attempt: event.attempts,
        delayMs: Math.max(0, (event.runAt ?? event.at) - event.at),
        error: event.error ?? { name: "Error", message: event.reason ?? "retrying" },
      });
    }
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

/** The handler of a task announced by a producer: it never runs here. */
const notHere = (): never => {
  throw new Error("taskmill: a producer-side record is never run");
};

/** Per-task retry overrides, stored only when they are data (a backoff function is not). */
function jsonRetry(retry: SubmitOptions["retry"]): JsonValue | undefined {
  if (retry === undefined) return undefined;
  if (typeof retry.backoff === "function")
    throw new InvalidArgumentError(
      "retry.backoff",
      "must be a named backoff in durable mode (functions cannot be stored)",
      "a function",
    );
  return JSON.parse(JSON.stringify(retry)) as JsonValue;
}

function traceMeta(): JsonValue | undefined {
  const carrier = injectTraceContext();
  return Object.keys(carrier).length === 0 ? undefined : carrier;
}

function outcomeOf(event: TaskEvent): unknown {
  switch (event.status) {
    case "succeeded":
      return event.value;
    case "cancelled":
      throw new CancelledError("cancel");
    case "expired":
      throw new ExpiredError();
    default:
      if (event.reason === "missing") throw new NotFoundError("task", event.id);
      throw new TaskFailedError(event.error ?? { name: "Error", message: "the task failed" });
  }
}

function storedEvent(task: StoredTask): TaskEvent {
  return {
    streamId: "",
    id: task.id,
    name: task.name,
    queue: task.queue,
    status: task.status,
    attempts: task.attempts,
    at: task.finishedAt ?? 0,
    createdAt: task.createdAt,
    startedAt: task.startedAt,
    finishedAt: task.finishedAt,
    runAt: undefined,
    value: task.value,
    error: task.error,
    reason: undefined,
  };
}

/** A task no longer in Redis (evicted by retention): its result is gone. */
function missingEvent(id: string): TaskEvent {
  return {
    streamId: "",
    id,
    name: "",
    queue: "",
    status: "failed",
    attempts: 0,
    at: 0,
    createdAt: undefined,
    startedAt: undefined,
    finishedAt: undefined,
    runAt: undefined,
    value: undefined,
    error: undefined,
    reason: "missing",
  };
}

function eventSnapshot(event: TaskEvent, maxRetries: number): TaskSnapshot {
  return {
    id: event.id,
    name: event.name,
    queue: event.queue,
    status: event.status,
    priority: 0,
    attempts: event.attempts,
    maxRetries,
    createdAt: event.createdAt ?? event.at,
    startedAt: event.startedAt,
    finishedAt: event.finishedAt,
    value: event.value,
    error: event.error,
  };
}

function isConnectionError(error: unknown): boolean {
  const message = error instanceof Error ? error.message : "";
  return /Connection is closed|connect ECONNREFUSED|Stream isn't writeable|MaxRetriesPerRequest|ECONNRESET/i.test(
    message,
  );
}
