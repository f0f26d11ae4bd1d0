import {
  BackendUnavailableError,
  CancelledError,
  InvalidArgumentError,
  NotFoundError,
} from "../../errors.js";
import type { TaskEventBus } from "../../events.js";
import type { ShutdownTracker } from "../../lifecycle/shutdown.js";
import { isTerminal } from "../../lifecycle/states.js";
import type { Instrumentation } from "../../observability/instrumentation.js";
import { type Logger, safeLog } from "../../observability/logger.js";
import type { DepthSnapshot } from "../../observability/metrics.js";
import type { ResolvedOptions, ResolvedRedisBackend } from "../../options.js";
import type {
  DeadLetterListOptions,
  DeadLetterOutcome,
  DeadLetterPage,
  DeadLetterSelector,
  ReplayOptions,
} from "../../registry/dead-letters.js";
import type { ResultBroadcaster } from "../../results/broadcaster.js";
import { isStreamId } from "../../results/stream-id.js";
import type { ResultBackfill } from "../../results/subscription.js";
import type { CronLeadership } from "../../scheduling/cron.js";
import { connectStore } from "../../stores/connect.js";
import type { DurableStore, StoreConnection, WorkWaiter } from "../../stores/durable-store.js";
import { DEFAULT_LEASE_MS } from "../../stores/durable-store.js";
import type { EnqueueResult, StoredTask, TaskEvent } from "../../stores/durable-types.js";
import { toSnapshot } from "../../stores/snapshots.js";
import { NO_SUBMIT_OPTIONS, validateSubmitOptions } from "../../submit-options.js";
import type {
  ListOptions,
  QueueInfo,
  SubmitOptions,
  TaskHandle,
  TaskPage,
  TaskSnapshot,
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
import type { SubmitManyItem } from "../submit-many.js";
import { CronLeader } from "./cron-leader.js";
import {
  missingEvent,
  outcomeOf,
  type RelayTargets,
  relayEvent,
  storedEvent,
} from "./event-relay.js";
import { Reaper } from "./reaper.js";
import { ResultFeed, readResultsAfter } from "./result-feed.js";
import { type AnnounceDeps, announceQueued, enqueueInput } from "./submission.js";
import { DurableTaskHandle } from "./task-handle.js";
import { untilAnswered } from "./until-answered.js";
import { DurableWorker } from "./worker.js";

export interface DurableEngineDeps {
  readonly options: ResolvedOptions;
  readonly backend: ResolvedRedisBackend;
  /** The manager's handler table (read live: handlers may be registered later). */
  readonly handlers: ReadonlyMap<string, RegisteredHandler>;
  readonly events: TaskEventBus;
  readonly results: ResultBroadcaster;
  readonly instrumentation: Instrumentation;
  readonly tracing: boolean;
  readonly shutdown: ShutdownTracker;
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
  readonly connection: StoreConnection;
  readonly store: DurableStore;
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
  /** What connecting opened, dropped by `close()` if the store never answered. */
  #pending: { connection?: StoreConnection; feed?: ResultFeed } = {};
  #worker: DurableWorker | undefined;
  #cronLeader: CronLeader | undefined;
  #closed = false;

  readonly #announceDeps: AnnounceDeps;
  readonly #relayTargets: RelayTargets;

  constructor(deps: DurableEngineDeps) {
    this.#deps = deps;
    this.#announceDeps = {
      clock: deps.options.clock,
      retry: deps.options.retry,
      timeoutMs: deps.options.timeoutMs,
      instrumentation: deps.instrumentation,
      events: deps.events,
    };
    this.#relayTargets = {
      events: deps.events,
      results: deps.results,
      maxRetries: (name) => this.#maxRetries(name),
    };
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
    const backend = this.#deps.backend.type;
    if (this.#closed) return { backend, status: "closed" };
    return { backend, status: this.#connections?.connection.status ?? "connecting" };
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
    handler: RegisteredHandler | undefined,
  ): Promise<TaskHandle<R>> {
    if (options !== NO_SUBMIT_OPTIONS) validateSubmitOptions(options);
    if (options.signal?.aborted) throw new CancelledError("signal");
    const { id, queue } = await this.#enqueue(name, payload, options, handler);
    return this.#handle<R>(id, name, queue, options.signal);
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

  /** All or nothing in one round trip (one script call); handles in order. */
  async submitMany(
    items: readonly SubmitManyItem[],
    handlers: ReadonlyMap<string, RegisteredHandler>,
  ): Promise<TaskHandle[]> {
    const { connection, store } = await this.#readyForSubmit();
    const prepared = items.map((item) => {
      const options = item.options ?? NO_SUBMIT_OPTIONS;
      if (options.signal?.aborted) throw new CancelledError("signal");
      const handler = handlers.get(item.name);
      return {
        item,
        options,
        handler,
        input: enqueueInput(item.name, item.payload, options, handler, this.#deps.tracing),
      };
    });
    const ids = await this.#unavailableOnConnectionError(connection, () =>
      store.enqueueMany(prepared.map((entry) => entry.input)).then((results) =>
        prepared.map(({ item, options, handler, input }, i) => {
          const result = results[i] as EnqueueResult;
          if (result.created)
            this.#created(result.id, item.name, input.queue, item.payload, options, handler);
          return result.id;
        }),
      ),
    );
    return prepared.map(({ item, options, input }, i) =>
      this.#handle(ids[i] as string, item.name, input.queue, options.signal),
    );
  }

  async #enqueue(
    name: string,
    payload: unknown,
    options: SubmitOptions,
    handler: RegisteredHandler | undefined,
  ): Promise<{ id: string; queue: string }> {
    const { connection, store } = await this.#readyForSubmit();
    const input = enqueueInput(name, payload, options, handler, this.#deps.tracing);
    // Announced in the reply's own continuation, before anything else of this process sees the
    // task: a worker here claiming it in the same turn must not emit `started` before `queued`.
    const id = await this.#unavailableOnConnectionError(connection, () =>
      store.enqueue(input).then((result) => {
        if (result.created) this.#created(result.id, name, input.queue, payload, options, handler);
        return result.id;
      }),
    );
    return { id, queue: input.queue };
  }

  /** The connections, once the result reader is live and the command connection is ready. */
  async #readyForSubmit(): Promise<Connections> {
    const connections = await this.#connected();
    // A subscriber or listener made before this submit must see its result: make sure the
    // result reader is live (its starting point fixed) before the task exists.
    await connections.feed.ensureLive();
    const status = connections.connection.status;
    if (status !== "connected") throw new BackendUnavailableError(`connection is ${status}`);
    return connections;
  }

  #created(
    id: string,
    name: string,
    queue: string,
    payload: unknown,
    options: SubmitOptions,
    handler: RegisteredHandler | undefined,
  ): void {
    this.#counters.submitted++;
    announceQueued(this.#announceDeps, id, name, queue, payload, options, handler);
  }

  /** The outcome of task `id`, whichever process runs it. */
  async result(id: string): Promise<unknown> {
    const { store, feed } = await this.#connected();
    const waiting = feed.waitFor(id);
    await feed.ensureLive();
    let timer: ReturnType<typeof setInterval> | undefined;
    const check = async () => {
      // A failed read (connection trouble) proves nothing: the next check reads again.
      const task = await store.get(id).then(
        (found) => found ?? missingEvent(id),
        () => undefined,
      );
      if (task === undefined) return;
      if ("reason" in task) feed.settle(task);
      else if (isTerminal(task.status)) feed.settle(storedEvent(task));
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
      if (outcome.cancelled) {
        this.#counters.cancelled++;
        this.#deps.shutdown.observe(id, "cancelled", 1);
      }
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

  /** Handlers still running after a drain that finished: their tasks ended without them. */
  unsettled(): readonly string[] {
    return this.#worker?.unsettled() ?? [];
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
        ttlMs: this.#deps.backend.leaseMs ?? DEFAULT_LEASE_MS,
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
      // Never connected: drop the sockets and return. A client may never settle the commands it
      // queued while offline, so the connect attempt is abandoned, not awaited; it holds no
      // socket or timer once its connections are dropped.
      this.#pending.connection?.destroy();
      void this.#pending.feed?.stop();
      return;
    }
    this.#worker?.close();
    connections.reaper.stop();
    connections.waiter.close();
    await connections.feed.stop();
    await releasing;
    await connections.connection.close();
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
        // Live tasks stay in Redis: the drain waits for the worker, not for a count.
        onFinished: (record) => this.#deps.shutdown.observe(record.id, record.status, 1),
      });
      connections.reaper.start();
    }
    return this.#worker;
  }

  /** The connections, or `BackendUnavailableError` if Redis has not answered in time. */
  #connected(): Promise<Connections> {
    if (this.#closed)
      return Promise.reject(
        new BackendUnavailableError("the manager has stopped: its store connections are closed"),
      );
    if (this.#connections !== undefined) return Promise.resolve(this.#connections);
    let timer: ReturnType<typeof setTimeout> | undefined;
    const timeout = new Promise<never>((_resolve, reject) => {
      timer = setTimeout(
        () =>
          reject(
            new BackendUnavailableError(
              `no answer from ${this.#deps.backend.type} within ${CONNECT_WAIT_MS} ms`,
            ),
          ),
        CONNECT_WAIT_MS,
      );
    });
    return Promise.race([this.#ready, timeout]).finally(() => clearTimeout(timer));
  }

  async #connect(): Promise<Connections> {
    const connection = await connectStore(this.#deps.backend, this.#deps.options, this.#logger);
    const store = connection.store;
    const feed: ResultFeed = new ResultFeed(
      store.createFeedReader(),
      this.#logger,
      (event) => this.#onEvent(event),
      () => this.#needsEvents(feed),
    );
    this.#pending = { connection, feed };
    // The store may be down at start: keep trying until it answers or the manager stops;
    // callers wait at most CONNECT_WAIT_MS each. Ready only once the command connection is
    // too: `submit` refuses a connection that is not connected (fail fast on connection loss),
    // so a submit right after construction must not find it still in its handshake.
    await untilAnswered(
      async () => {
        await connection.ping();
        await feed.start();
      },
      () => this.#closed,
      this.#logger,
    );
    if (this.#closed) {
      // Stopped while the last handshake was answering: do not keep what it opened.
      connection.destroy();
      await feed.stop();
      throw new BackendUnavailableError("the manager stopped before the store answered");
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
    this.#connections = { connection, store, feed, waiter, reaper };
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
    if (!this.#isFeedPosition(after))
      throw new InvalidArgumentError(
        "after",
        'must be a result\'s eventId (an events-stream id such as "1700000000000-0")',
        after,
      );
    return {
      read: async (from, count) => {
        const { connection, store, feed } = await this.#connected();
        await feed.ensureLive();
        // One XREAD per page: a large subscriber buffer must not become one huge reply.
        return this.#unavailableOnConnectionError(connection, () =>
          readResultsAfter(store, from, Math.min(count, 1_000)),
        );
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
    if (event.status === "cancelled")
      this.#worker?.abortLocal(event.id, new CancelledError("cancel"));
    relayEvent(event, this.#relayTargets);
  }

  /** Runs a store call, turning an unreachable store into `BackendUnavailableError`. */
  async #unavailableOnConnectionError<T>(
    connection: StoreConnection,
    call: () => Promise<T>,
  ): Promise<T> {
    try {
      return await call();
    } catch (error) {
      if (connection.isConnectionError(error))
        throw new BackendUnavailableError((error as Error).message, { cause: error });
      throw error;
    }
  }

  #isFeedPosition(value: unknown): value is string {
    return this.#connections?.store.isFeedPosition(value) ?? isStreamId(value);
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
