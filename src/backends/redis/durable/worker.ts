/**
 * The durable worker loop: claims tasks from Redis for the queues this process has handlers
 * for, never more than it has free slots (and, without a global rate, tokens in the manager's
 * one bucket), runs each as an attempt with the same `ctx` as memory mode, keeps its lease
 * alive while the handler runs, and settles it with a fenced ack, nack (retry) or fail (DLQ).
 */
import { CancelledError, InvalidArgumentError, TimeoutError } from "../../../errors.js";
import type { TaskEventBus } from "../../../events.js";
import { Attempt } from "../../../lifecycle/attempt.js";
import { type AttemptOwner, invokeHandler } from "../../../lifecycle/invoke-handler.js";
import { TaskRecord } from "../../../lifecycle/task-record.js";
import { transition } from "../../../lifecycle/transitions.js";
import type { Instrumentation } from "../../../observability/instrumentation.js";
import { type Logger, safeLog } from "../../../observability/logger.js";
import { extractTraceContext } from "../../../observability/tracing.js";
import { DEFAULTS } from "../../../options.js";
import type { RetryPolicy } from "../../../retry/backoff.js";
import { decideRetry } from "../../../retry/policy.js";
import type { Clock, TimerHandle } from "../../../scheduling/clock.js";
import {
  createBucket,
  msUntilToken,
  refill,
  type TokenBucketConfig,
  type TokenBucketState,
  tryTake,
} from "../../../scheduling/token-bucket.js";
import type { TaskHandler } from "../../../types.js";
import { StaleLeaseError } from "../errors.js";
import { LeaseKeeper } from "../lease-keeper.js";
import type { RedisStore } from "../redis-store.js";
import type { ClaimedTask } from "../types.js";
import type { WorkWaiter } from "../waiter.js";

/** A handler as registered on the manager. */
export interface WorkerHandler {
  readonly handler: TaskHandler;
  readonly retry: RetryPolicy;
  readonly timeoutMs: number;
  readonly queue: string;
}

export interface WorkerDeps {
  readonly store: RedisStore;
  readonly waiter: WorkWaiter;
  readonly clock: Clock;
  readonly random: () => number;
  readonly logger: Logger;
  readonly concurrency: number;
  readonly queueCaps: ReadonlyMap<string, { readonly concurrency: number }>;
  /** The manager's bucket, used when no global rate limits the claim script instead. */
  readonly rate: TokenBucketConfig | undefined;
  readonly handlers: ReadonlyMap<string, WorkerHandler>;
  readonly isPaused: (queue: string) => boolean;
  readonly events: TaskEventBus;
  readonly instrumentation: Instrumentation;
}

interface Active {
  readonly task: ClaimedTask;
  readonly record: TaskRecord;
  readonly attempt: Attempt;
  timer: TimerHandle | undefined;
  /** Set once the outcome is decided elsewhere (lease lost, cancelled, stopped): no ack. */
  released: boolean;
}

/** Longest idle block before re-checking delayed tasks and paused queues. */
const MAX_IDLE_MS = 5_000;
/** Pause after a failed claim (connection trouble) before the next one. */
const CLAIM_RETRY_MS = 250;

export class DurableWorker implements AttemptOwner {
  readonly #deps: WorkerDeps;
  readonly #keeper: LeaseKeeper;
  /** Every handler that has not settled, by attempt: the cap counts all of them. */
  readonly #active = new Map<Attempt, Active>();
  /** The latest attempt per task id (a task reclaimed and claimed here again has two). */
  readonly #byId = new Map<string, Active>();
  readonly #runningPerQueue = new Map<string, number>();
  readonly #bucket: TokenBucketState | undefined;
  readonly #stopClaiming = new AbortController();
  #wake: (() => void) | undefined;
  #loop: Promise<void> | undefined;
  #settling = new Set<Promise<void>>();

  constructor(deps: WorkerDeps) {
    this.#deps = deps;
    this.#bucket = deps.rate === undefined ? undefined : createBucket(deps.rate, deps.clock.now());
    this.#keeper = new LeaseKeeper(deps.store, {
      clock: deps.clock,
      onLost: (id, error) => this.#leaseLost(id, error),
      onError: (error) =>
        safeLog(deps.logger, "warn", { err: error }, "taskmill lease renewal failed; retrying"),
    });
  }

  /** Handlers running now. */
  get running(): number {
    return this.#active.size;
  }

  runningIn(queue: string): number {
    return this.#runningPerQueue.get(queue) ?? 0;
  }

  /** Starts the claim loop once; later calls (new handlers, resumed queues) just wake it. */
  start(): void {
    this.#loop ??= this.#run();
    this.wake();
  }

  /** Ends an idle wait so the loop re-evaluates (a slot freed, a queue resumed). */
  wake(): void {
    const wake = this.#wake;
    this.#wake = undefined;
    wake?.();
  }

  /** Stops claiming; running handlers go on. Resolves when the loop has exited. */
  async stopClaiming(): Promise<void> {
    this.#stopClaiming.abort();
    this.wake();
    await this.#loop;
  }

  /** Resolves when no handler runs and every outcome has been written. */
  async idle(): Promise<void> {
    while (this.#active.size > 0 || this.#settling.size > 0) {
      await Promise.race([
        ...this.#settling,
        new Promise<void>((resolve) => this.#onIdleChange(resolve)),
      ]);
    }
  }

  /** Aborts the local attempt of `id`, if it runs here (the task was cancelled elsewhere). */
  abortLocal(id: string, reason: CancelledError): void {
    const active = this.#byId.get(id);
    if (active === undefined) return;
    active.released = true;
    active.attempt.abort(reason, this.#deps.clock.now());
    this.#keeper.release(id);
  }

  /**
   * Stop now: aborts every running handler and hands its task back to Redis at once (a nack
   * with no delay), so another process runs it. Returns the ids handed back.
   */
  async handBackAll(): Promise<string[]> {
    const ids: string[] = [];
    const writes: Promise<void>[] = [];
    for (const active of this.#active.values()) {
      if (active.released) continue;
      active.released = true;
      const reason = new CancelledError("stop");
      active.attempt.abort(reason, this.#deps.clock.now());
      this.#keeper.release(active.task.id);
      ids.push(active.task.id);
      writes.push(
        this.#write(active, () =>
          this.#deps.store.nack(
            active.task.id,
            active.task.token,
            { delayMs: 0 },
            reason,
            active.task.queue,
          ),
        ),
      );
    }
    await Promise.all(writes);
    return ids;
  }

  /** Ids of handlers that have not settled (after `handBackAll`: the ones ignoring the abort). */
  unsettled(): string[] {
    return [...this.#active.values()].map((active) => active.task.id);
  }

  close(): void {
    this.#keeper.stop();
    for (const active of this.#active.values()) this.#clearTimer(active);
  }

  #idleListeners: Array<() => void> = [];

  #onIdleChange(listener: () => void): void {
    this.#idleListeners.push(listener);
  }

  #notifyIdleChange(): void {
    const listeners = this.#idleListeners;
    this.#idleListeners = [];
    for (const listener of listeners) listener();
  }

  async #run(): Promise<void> {
    const stop = this.#stopClaiming.signal;
    while (!stop.aborted) {
      const queues = this.#eligibleQueues();
      let free = this.#deps.concurrency - this.#active.size;
      for (const queue of queues) free = Math.min(free, this.#queueFree(queue));
      if (free <= 0 || queues.length === 0) {
        await this.#sleepUntilWoken(MAX_IDLE_MS);
        continue;
      }
      if (this.#bucket !== undefined) {
        const rate = this.#deps.rate as TokenBucketConfig;
        const now = this.#deps.clock.now();
        refill(this.#bucket, rate, now);
        const tokens = Math.floor(this.#bucket.tokens + 1e-9);
        if (tokens < 1) {
          await this.#sleepUntilWoken(msUntilToken(this.#bucket, rate, now));
          continue;
        }
        free = Math.min(free, tokens);
      }
      const sentAt = this.#deps.clock.now();
      let claimed: Awaited<ReturnType<RedisStore["claim"]>>;
      try {
        claimed = await this.#deps.store.claim(queues, free);
      } catch (error) {
        if (stop.aborted) return;
        safeLog(this.#deps.logger, "warn", { err: error }, "taskmill claim failed; retrying");
        await this.#sleepUntilWoken(CLAIM_RETRY_MS);
        continue;
      }
      for (const task of claimed.tasks) this.#start(task, sentAt);
      if (claimed.tasks.length > 0) continue;
      if (claimed.rateWaitMs > 0) {
        await this.#sleepUntilWoken(claimed.rateWaitMs);
        continue;
      }
      const untilDue =
        claimed.nextDueAt === undefined
          ? MAX_IDLE_MS
          : Math.max(1, claimed.nextDueAt - claimed.now);
      try {
        await this.#deps.waiter.wait(queues, Math.min(MAX_IDLE_MS, untilDue), stop);
      } catch (error) {
        if (stop.aborted) return;
        safeLog(
          this.#deps.logger,
          "warn",
          { err: error },
          "taskmill wait for work failed; retrying",
        );
        await this.#sleepUntilWoken(CLAIM_RETRY_MS);
      }
    }
  }

  /** Queues with a local handler, not paused, with room under their own cap. */
  #eligibleQueues(): string[] {
    const queues = new Set<string>();
    for (const registered of this.#deps.handlers.values()) queues.add(registered.queue);
    return [...queues].filter((queue) => !this.#deps.isPaused(queue) && this.#queueFree(queue) > 0);
  }

  #queueFree(queue: string): number {
    const cap = this.#deps.queueCaps.get(queue)?.concurrency ?? Number.POSITIVE_INFINITY;
    return cap - this.runningIn(queue);
  }

  #sleepUntilWoken(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const timer = setTimeout(done, Math.max(1, ms));
      const stop = this.#stopClaiming.signal;
      function done() {
        clearTimeout(timer);
        stop.removeEventListener("abort", done);
        resolve();
      }
      this.#wake = done;
      stop.addEventListener("abort", done, { once: true });
    });
  }

  #start(task: ClaimedTask, claimedAt: number): void {
    const deps = this.#deps;
    this.#keeper.hold(task, claimedAt);
    if (this.#bucket !== undefined)
      tryTake(this.#bucket, deps.rate as TokenBucketConfig, deps.clock.now());
    const registered = deps.handlers.get(task.name);
    const record = new TaskRecord(
      task.id,
      -1,
      task.name,
      task.queue,
      task.payload,
      task.priority,
      registered?.handler ?? missingHandler,
      taskRetry(task, registered),
      task.timeoutMs ?? registered?.timeoutMs ?? 0,
      task.createdAt,
      undefined,
      task.expiresAt,
      task.idempotencyKey,
    );
    transition(record, "running", task.startedAt);
    record.attempts = task.attempts;
    record.startedAt = task.startedAt;
    // Queue wait runs from when the task became due (its retry or delay time, else creation).
    record.dueAt = task.runAt ?? task.createdAt;
    // The submitter's trace context travelled in the task: this attempt's span joins its trace.
    if (isCarrier(task.meta)) record.traceContext = extractTraceContext(task.meta);
    const now = deps.clock.now();
    const attempt = new Attempt(record, now, (current, value) => this.#progress(current, value));
    record.attempt = attempt;
    const active: Active = { task, record, attempt, timer: undefined, released: false };
    this.#active.set(attempt, active);
    this.#byId.set(task.id, active);
    this.#runningPerQueue.set(task.queue, this.runningIn(task.queue) + 1);
    if (attempt.deadline !== Number.POSITIVE_INFINITY)
      active.timer = deps.clock.setTimer(() => {
        active.timer = undefined;
        attempt.abort(new TimeoutError(record.timeoutMs), deps.clock.now());
      }, record.timeoutMs);
    deps.instrumentation.started(attempt);
    if (deps.events.wants("started"))
      deps.events.emit("started", { task: record.snapshot(), attempt: attempt.attempt });
    invokeHandler(attempt, deps.instrumentation, this);
  }

  /** @internal An attempt's handler settled (called by `invokeHandler`). */
  settled(attempt: Attempt, error: Error | undefined, value: unknown): void {
    const active = this.#active.get(attempt);
    if (active === undefined) return;
    const { task, record } = active;
    const deps = this.#deps;
    attempt.settled = true;
    this.#clearTimer(active);
    const failure = attempt.abortReason ?? error;
    deps.instrumentation.attemptEnded(attempt, failure, deps.clock.now());
    this.#active.delete(attempt);
    if (this.#byId.get(task.id) === active) this.#byId.delete(task.id);
    this.#runningPerQueue.set(task.queue, this.runningIn(task.queue) - 1);
    if (!active.released) {
      this.#keeper.release(task.id);
      const store = deps.store;
      const now = deps.clock.now();
      if (failure === undefined) {
        this.#write(active, () => store.ack(task.id, task.token, value)).catch(() => {});
        record.value = value;
        if (transition(record, "succeeded", now))
          deps.instrumentation.finished(record, "succeeded");
      } else {
        const decision = decideRetry(record, failure, deps.random);
        this.#write(active, () =>
          decision.retry
            ? store.nack(task.id, task.token, { delayMs: decision.delayMs }, failure, task.queue)
            : store.fail(task.id, task.token, failure),
        ).catch(() => {});
        // The local record mirrors the outcome for metrics, hooks and logs of this worker.
        record.error = failure;
        if (decision.retry) {
          record.runAt = now + decision.delayMs;
          if (transition(record, "retrying", now))
            deps.instrumentation.retrying(record, decision.delayMs, failure);
        } else if (transition(record, "failed", now))
          deps.instrumentation.finished(record, "failed");
      }
    }
    this.#notifyIdleChange();
    this.wake();
  }

  /**
   * Writes an outcome, retrying connection errors until the lease would have expired (after
   * that another worker owns the task and the write would be refused anyway). A refused
   * (stale) write means someone else decided: nothing to do.
   */
  #write(active: Active, write: () => Promise<unknown>): Promise<void> {
    const deps = this.#deps;
    // The lease was renewed at most a third of a lease ago: it surely holds this long.
    const deadline = deps.clock.now() + (deps.store.options.leaseMs * 2) / 3;
    const run = async () => {
      for (let delay = 50; ; delay = Math.min(delay * 2, 1_000)) {
        try {
          await write();
          return;
        } catch (error) {
          if (error instanceof StaleLeaseError) {
            safeLog(
              deps.logger,
              "info",
              { taskId: active.task.id, reason: error.reason },
              "taskmill outcome refused: the lease is no longer ours",
            );
            return;
          }
          if (error instanceof InvalidArgumentError) {
            // The handler returned something that is not JSON: the task fails with that.
            await deps.store.fail(active.task.id, active.task.token, error).catch(() => {});
            return;
          }
          if (deps.clock.now() + delay >= deadline) {
            safeLog(
              deps.logger,
              "error",
              { err: error, taskId: active.task.id },
              "taskmill could not write an outcome before the lease ran out; the task will run again",
            );
            return;
          }
          await new Promise((resolve) => setTimeout(resolve, delay));
        }
      }
    };
    const promise = run();
    this.#settling.add(promise);
    promise.finally(() => {
      this.#settling.delete(promise);
      this.#notifyIdleChange();
    });
    return promise;
  }

  #leaseLost(id: string, error: StaleLeaseError): void {
    const active = this.#byId.get(id);
    if (active === undefined || active.released) return;
    active.released = true;
    safeLog(
      this.#deps.logger,
      "warn",
      { taskId: id, reason: error.reason },
      "taskmill lost the lease of a running task; aborting its handler",
    );
    active.attempt.abort(
      new CancelledError(error.reason === "cancelled" ? "cancel" : "lease"),
      this.#deps.clock.now(),
    );
  }

  #progress(attempt: Attempt, value: unknown): void {
    attempt.record.progress = value;
    if (this.#deps.events.wants("progress"))
      this.#deps.events.emit("progress", { task: attempt.record.snapshot(), value });
  }

  #clearTimer(active: Active): void {
    if (active.timer === undefined) return;
    this.#deps.clock.clearTimer(active.timer);
    active.timer = undefined;
  }
}

function isCarrier(meta: unknown): meta is Record<string, string> {
  return (
    typeof meta === "object" &&
    meta !== null &&
    !Array.isArray(meta) &&
    typeof (meta as Record<string, unknown>).traceparent === "string"
  );
}

/** A claimed task whose name has no handler here fails at once, loudly. */
const missingHandler: TaskHandler = (_payload, ctx) => {
  throw new InvalidArgumentError(
    "name",
    "has no handler registered in the worker that claimed it",
    ctx.name,
  );
};

/** The retry policy of a claimed task: the handler's, with the task's own overrides. */
function taskRetry(task: ClaimedTask, registered: WorkerHandler | undefined): RetryPolicy {
  // Without a handler here the task fails (missingHandler); no retries unless it says so.
  const base = registered?.retry ?? { ...DEFAULTS.retry, maxRetries: 0 };
  const override = task.retry;
  const merged: RetryPolicy =
    override !== null && typeof override === "object" && !Array.isArray(override)
      ? { ...base, ...(override as Partial<RetryPolicy>) }
      : base;
  return task.maxRetries === undefined ? merged : { ...merged, maxRetries: task.maxRetries };
}
