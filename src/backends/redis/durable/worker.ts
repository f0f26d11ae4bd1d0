/**
 * The durable worker: claims tasks from Redis for the queues this process has handlers for,
 * never more than it has free slots (and, without a global rate, tokens in the manager's one
 * bucket), runs each as an attempt with the same `ctx` as memory mode, keeps its lease alive
 * while the handler runs, and settles it with a fenced ack, nack (retry) or fail (DLQ).
 *
 * One round trip per batch: the acks of every handler that finished since the last call travel
 * in the same script call as the claim for the slots they freed (`RedisStore.step`). Two such
 * calls may be in flight, each claiming at most half the slots and reserving them until its
 * reply is handled, so Node runs the handlers of one while Redis runs the other; handlers that
 * finish while both are in flight are acked by the next call, so the batch grows with the load.
 * Each call carries a request id (worker id + sequence): a call whose reply is lost (the
 * connection dropped after Redis ran it) gets its leases back on the client's resend, or on
 * this worker's next call, without counting another delivery.
 */
import { randomUUID } from "node:crypto";
import { CancelledError, InvalidArgumentError, TimeoutError } from "../../../errors.js";
import type { TaskEventBus } from "../../../events.js";
import { Attempt } from "../../../lifecycle/attempt.js";
import { type AttemptOwner, invokeHandler } from "../../../lifecycle/invoke-handler.js";
import type { RunnerCounters } from "../../../lifecycle/runner.js";
import { TaskRecord } from "../../../lifecycle/task-record.js";
import { transition } from "../../../lifecycle/transitions.js";
import type { Instrumentation } from "../../../observability/instrumentation.js";
import { type Logger, safeLog } from "../../../observability/logger.js";
import { extractTraceContext } from "../../../observability/tracing.js";
import { DEFAULTS } from "../../../options.js";
import type { RetryPolicy } from "../../../retry/backoff.js";
import { decideRetry, withMaxRetries } from "../../../retry/policy.js";
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
import type { AckRef, RedisStore, StepResult } from "../redis-store.js";
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
  /** This process's totals for `stats()`: attempts started, outcomes written. */
  readonly counters: RunnerCounters;
}

interface Active {
  readonly task: ClaimedTask;
  readonly record: TaskRecord;
  readonly attempt: Attempt;
  timer: TimerHandle | undefined;
  /** Set once the outcome is decided elsewhere (lease lost, cancelled, stopped): no ack. */
  released: boolean;
}

/** How an outcome write ended; see `#write`. */
type WriteOutcome = "written" | "failed" | "lost";

/** A finished handler's ack waiting for the next step call. */
interface PendingAck {
  readonly active: Active;
  readonly value: unknown;
}

/** Longest idle block before re-checking delayed tasks and paused queues. */
const MAX_IDLE_MS = 5_000;
/** Pause after a failed claim (connection trouble) before the next one. */
const CLAIM_RETRY_MS = 250;
/**
 * Step calls in flight at once, each claiming at most its share of the slots, so that while
 * Redis runs one, Node runs the handlers of the other (measured: 2 beat 1, 3 and 4 on 2 cores).
 */
const STEPS_IN_FLIGHT = 2;

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
  readonly #workerId = randomUUID().slice(0, 13);
  #sequence = 0;
  /** Request ids of claims whose reply never arrived: the next claim recovers their leases. */
  #unanswered: Array<{ readonly id: string; readonly sentAt: number }> = [];
  #started = false;
  /** Slots reserved by claims in flight, overall and per queue. */
  #reserved = 0;
  readonly #reservedPerQueue = new Map<string, number>();
  #claimsInFlight = 0;
  /** Step calls (acks and/or claim) in flight. */
  #stepsInFlight = 0;
  /** Slots still held by outcomes whose write failed once and is being retried. */
  #heldForWrite = 0;
  #acks: PendingAck[] = [];
  /** Blocked on the queue markers (no claims until it ends). */
  #waiting = false;
  /** A claim failed or the bucket is dry: no claims until the timer fires. */
  #pauseTimer: ReturnType<typeof setTimeout> | undefined;
  #pumpScheduled: ReturnType<typeof setImmediate> | undefined;
  #closed = false;
  #settling = new Set<Promise<unknown>>();

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

  /** Starts claiming; later calls (new handlers, resumed queues) just wake it. */
  start(): void {
    this.#started = true;
    this.wake();
  }

  /** Re-evaluates at once: a slot freed, a queue resumed, a handler registered. */
  wake(): void {
    if (this.#pauseTimer !== undefined) {
      clearTimeout(this.#pauseTimer);
      this.#pauseTimer = undefined;
    }
    this.#schedulePump();
  }

  /**
   * Stops claiming; running handlers go on. Resolves once no claim is in flight (their tasks
   * have started here) and the blocking wait has ended.
   */
  async stopClaiming(): Promise<void> {
    this.#stopClaiming.abort();
    this.wake();
    while (this.#claimsInFlight > 0 || this.#waiting)
      await new Promise<void>((resolve) => this.#onIdleChange(resolve));
  }

  /** Resolves when no handler runs and every outcome has been written. */
  async idle(): Promise<void> {
    while (this.#active.size > 0 || this.#settling.size > 0 || this.#acks.length > 0) {
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
    const writes: Promise<unknown>[] = [];
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
    // Acks still waiting for the next step go out now, ahead of the connection's QUIT.
    if (!this.#closed && this.#acks.length > 0) {
      const acks = this.#acks;
      this.#acks = [];
      this.#send(acks, [...new Set(acks.map((ack) => ack.active.task.queue))], 0);
    }
    this.#closed = true;
    this.#keeper.stop();
    for (const active of this.#active.values()) this.#clearTimer(active);
    if (this.#pauseTimer !== undefined) clearTimeout(this.#pauseTimer);
    if (this.#pumpScheduled !== undefined) clearImmediate(this.#pumpScheduled);
    this.#pauseTimer = undefined;
    this.#pumpScheduled = undefined;
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

  /** Pumps once at the end of this turn of the event loop, so finished handlers batch up. */
  #schedulePump(): void {
    if (this.#pumpScheduled !== undefined || this.#closed) return;
    this.#pumpScheduled = setImmediate(() => {
      this.#pumpScheduled = undefined;
      this.#pump();
    });
  }

  /**
   * Sends what is due: a step with the pending acks and a claim for the free slots, or the
   * acks alone while claiming is not possible (stopping, blocked on the markers, paused after
   * a failure, no free slot, or enough claims in flight).
   */
  #pump(): void {
    // With the local bucket, tokens are taken as tasks start: one claim at a time then.
    const limit = this.#bucket === undefined ? STEPS_IN_FLIGHT : 1;
    if (this.#closed || this.#stepsInFlight >= limit) return;
    const deps = this.#deps;
    let max = 0;
    let queues: string[] = [];
    if (
      this.#started &&
      !this.#stopClaiming.signal.aborted &&
      !this.#waiting &&
      this.#pauseTimer === undefined
    ) {
      queues = this.#eligibleQueues();
      let free = deps.concurrency - this.#active.size - this.#reserved - this.#heldForWrite;
      for (const queue of queues) free = Math.min(free, this.#queueFree(queue));
      if (free > 0 && queues.length > 0 && this.#bucket !== undefined) {
        const rate = deps.rate as TokenBucketConfig;
        const now = deps.clock.now();
        refill(this.#bucket, rate, now);
        const tokens = Math.floor(this.#bucket.tokens + 1e-9);
        if (tokens < 1) this.#pauseFor(msUntilToken(this.#bucket, rate, now));
        free = Math.min(free, tokens);
      }
      free = Math.min(free, Math.ceil(deps.concurrency / limit));
      max = queues.length > 0 ? Math.max(0, free) : 0;
    }
    const acks = this.#acks;
    if (max === 0 && acks.length === 0) return;
    this.#acks = [];
    if (max === 0) queues = [...new Set(acks.map((ack) => ack.active.task.queue))];
    this.#send(acks, queues, max);
    // Slots left over (the per-call cap): claim them in a second call right away.
    if (max > 0) this.#pump();
  }

  /** One step call: `acks`, then a claim of up to `max` (0: acks only). */
  #send(acks: PendingAck[], queues: string[], max: number): void {
    const deps = this.#deps;
    const claiming = max > 0;
    const requestId = claiming ? `${this.#workerId}:${++this.#sequence}` : undefined;
    const sentAt = deps.clock.now();
    // Receipts expire with their leases: older ones have nothing left to give back.
    const leaseMs = deps.store.options.leaseMs;
    if (this.#unanswered.length > 0)
      this.#unanswered = this.#unanswered.filter((earlier) => sentAt - earlier.sentAt < leaseMs);
    const unanswered = claiming ? this.#unanswered.map((earlier) => earlier.id) : [];
    this.#stepsInFlight++;
    if (claiming) {
      this.#claimsInFlight++;
      this.#reserve(queues, max);
    }
    const refs: AckRef[] = acks.map(({ active, value }) => ({
      id: active.task.id,
      token: active.task.token,
      value,
    }));
    const call = deps.store.step(
      refs,
      queues,
      max,
      requestId === undefined ? {} : { requestId, unanswered },
    );
    const handled = call.then(
      (result) => {
        this.#stepsInFlight--;
        if (claiming) {
          this.#claimsInFlight--;
          this.#reserve(queues, -max);
          this.#unanswered = this.#unanswered.filter((earlier) => !unanswered.includes(earlier.id));
        }
        this.#acked(acks, result.acks);
        if (claiming) this.#claimed(result, sentAt);
        this.#notifyIdleChange();
        this.#schedulePump();
      },
      (error: unknown) => {
        this.#stepsInFlight--;
        if (claiming) {
          this.#claimsInFlight--;
          this.#reserve(queues, -max);
          // Redis may have run it: the next claim asks for its leases back.
          if (requestId !== undefined) this.#unanswered.push({ id: requestId, sentAt });
        }
        if (!this.#stopClaiming.signal.aborted || acks.length > 0)
          safeLog(deps.logger, "warn", { err: error }, "taskmill claim failed; retrying");
        // Each ack is retried on its own (idempotent per token); its slot stays held meanwhile.
        for (const { active, value } of acks) {
          this.#heldForWrite++;
          void this.#write(active, () => deps.store.ack(active.task.id, active.task.token, value))
            .then((outcome) => {
              if (outcome === "written") this.#succeeded(active.record);
              else if (outcome === "failed") this.#failed(active.record);
            })
            .finally(() => {
              this.#heldForWrite--;
              this.#schedulePump();
            });
        }
        if (claiming && !this.#stopClaiming.signal.aborted) this.#pauseFor(CLAIM_RETRY_MS);
        this.#notifyIdleChange();
        this.#schedulePump();
      },
    );
    // A bug above must not surface as an unhandled rejection.
    this.#track(
      handled.catch((error: unknown) =>
        safeLog(deps.logger, "error", { err: error }, "taskmill could not handle a step reply"),
      ),
    );
  }

  #reserve(queues: readonly string[], slots: number): void {
    this.#reserved += slots;
    for (const queue of queues)
      this.#reservedPerQueue.set(queue, (this.#reservedPerQueue.get(queue) ?? 0) + slots);
  }

  /**
   * Per ack of a step: written ones count as successes here, refused ones are logged (someone
   * else decided), bad results fail.
   */
  #acked(acks: readonly PendingAck[], results: ReadonlyArray<number | Error>): void {
    const deps = this.#deps;
    acks.forEach(({ active }, i) => {
      const result = results[i];
      if (result instanceof StaleLeaseError)
        safeLog(
          deps.logger,
          "info",
          { taskId: active.task.id, reason: result.reason },
          "taskmill outcome refused: the lease is no longer ours",
        );
      else if (result instanceof InvalidArgumentError) {
        // The handler returned something that is not JSON: the task fails with that.
        active.record.error = result;
        void this.#write(active, () =>
          deps.store.fail(active.task.id, active.task.token, result),
        ).then((outcome) => {
          if (outcome !== "lost") this.#failed(active.record);
        });
      } else if (typeof result === "number") this.#succeeded(active.record);
    });
  }

  // This process counts an outcome (metrics, hooks, logs) only once Redis took it: a refused
  // late ack must not count a success that another worker's result replaced, and a hook that
  // sees `succeeded` may rely on the result being stored.

  #succeeded(record: TaskRecord): void {
    if (!transition(record, "succeeded", this.#deps.clock.now())) return;
    this.#deps.counters.succeeded++;
    this.#deps.instrumentation.finished(record, "succeeded");
  }

  #failed(record: TaskRecord): void {
    if (!transition(record, "failed", this.#deps.clock.now())) return;
    this.#deps.counters.failed++;
    this.#deps.instrumentation.finished(record, "failed");
  }

  #retrying(record: TaskRecord, delayMs: number, failure: Error): void {
    const now = this.#deps.clock.now();
    record.runAt = now + delayMs;
    if (!transition(record, "retrying", now)) return;
    this.#deps.counters.retried++;
    this.#deps.instrumentation.retrying(record, delayMs, failure);
  }

  /** A claim's reply: start its tasks, or decide how long to wait for work. */
  #claimed(result: StepResult, sentAt: number): void {
    // The claim script ended these instead of leasing them: poison to the DLQ, TTL passed.
    this.#deps.counters.failed += result.poisoned;
    this.#deps.counters.expired += result.expired;
    for (const task of result.tasks) this.#start(task, sentAt);
    if (result.tasks.length > 0 || this.#stopClaiming.signal.aborted) return;
    if (result.rateWaitMs > 0) {
      this.#pauseFor(result.rateWaitMs);
      return;
    }
    if (this.#waiting) return;
    const untilDue =
      result.nextDueAt === undefined ? MAX_IDLE_MS : Math.max(1, result.nextDueAt - result.now);
    const queues = this.#eligibleQueues();
    if (queues.length === 0) return;
    this.#waiting = true;
    const wait = this.#deps.waiter
      .wait(queues, Math.min(MAX_IDLE_MS, untilDue), this.#stopClaiming.signal)
      .then(
        () => undefined,
        (error: unknown) => {
          if (this.#stopClaiming.signal.aborted) return;
          safeLog(
            this.#deps.logger,
            "warn",
            { err: error },
            "taskmill wait for work failed; retrying",
          );
          this.#pauseFor(CLAIM_RETRY_MS);
        },
      )
      .finally(() => {
        this.#waiting = false;
        this.#notifyIdleChange();
        this.#schedulePump();
      });
    void wait;
  }

  /** No claims for `ms` (acks still go out); a `wake()` ends the pause early. */
  #pauseFor(ms: number): void {
    if (this.#pauseTimer !== undefined || this.#closed) return;
    this.#pauseTimer = setTimeout(
      () => {
        this.#pauseTimer = undefined;
        this.#schedulePump();
      },
      Math.max(1, ms),
    );
  }

  #track(promise: Promise<unknown>): void {
    this.#settling.add(promise);
    promise.finally(() => {
      this.#settling.delete(promise);
      this.#notifyIdleChange();
    });
  }

  /** Queues with a local handler, not paused, with room under their own cap. */
  #eligibleQueues(): string[] {
    const queues = new Set<string>();
    for (const registered of this.#deps.handlers.values()) queues.add(registered.queue);
    return [...queues].filter((queue) => !this.#deps.isPaused(queue) && this.#queueFree(queue) > 0);
  }

  #queueFree(queue: string): number {
    const cap = this.#deps.queueCaps.get(queue)?.concurrency ?? Number.POSITIVE_INFINITY;
    return cap - this.runningIn(queue) - (this.#reservedPerQueue.get(queue) ?? 0);
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
    deps.counters.started++;
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
      if (failure === undefined) {
        // Sent with the next step, together with the claim for this slot; counted once Redis
        // took it (`#acked`).
        this.#acks.push({ active, value });
        record.value = value;
      } else {
        const decision = decideRetry(record, failure, deps.random);
        record.error = failure;
        void this.#write(active, () =>
          decision.retry
            ? store.nack(task.id, task.token, { delayMs: decision.delayMs }, failure, task.queue)
            : store.fail(task.id, task.token, failure),
        ).then((outcome) => {
          if (outcome === "lost") return;
          if (decision.retry) this.#retrying(record, decision.delayMs, failure);
          else this.#failed(record);
        });
      }
    }
    this.#notifyIdleChange();
    this.#schedulePump();
  }

  /**
   * Writes an outcome, retrying connection errors until the lease would have expired (after
   * that another worker owns the task and the write would be refused anyway). A refused
   * (stale) write means someone else decided: nothing to do. Resolves `written`, `failed` (a
   * result that is not JSON failed the task instead) or `lost` (refused, or out of time).
   */
  #write(active: Active, write: () => Promise<unknown>): Promise<WriteOutcome> {
    const deps = this.#deps;
    // The lease was renewed at most a third of a lease ago: it surely holds this long.
    const deadline = deps.clock.now() + (deps.store.options.leaseMs * 2) / 3;
    const run = async (): Promise<WriteOutcome> => {
      for (let delay = 50; ; delay = Math.min(delay * 2, 1_000)) {
        try {
          await write();
          return "written";
        } catch (error) {
          if (error instanceof StaleLeaseError) {
            safeLog(
              deps.logger,
              "info",
              { taskId: active.task.id, reason: error.reason },
              "taskmill outcome refused: the lease is no longer ours",
            );
            return "lost";
          }
          if (error instanceof InvalidArgumentError) {
            // The handler returned something that is not JSON: the task fails with that.
            active.record.error = error;
            return deps.store.fail(active.task.id, active.task.token, error).then(
              () => "failed",
              () => "lost",
            );
          }
          if (deps.clock.now() + delay >= deadline) {
            safeLog(
              deps.logger,
              "error",
              { err: error, taskId: active.task.id },
              "taskmill could not write an outcome before the lease ran out; the task will run again",
            );
            return "lost";
          }
          await new Promise((resolve) => setTimeout(resolve, delay));
        }
      }
    };
    const promise = run();
    this.#track(promise);
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
  return withMaxRetries(merged, task.maxRetries);
}
