import { CancelledError, type CancelReason, ExpiredError, TimeoutError } from "../errors.js";
import type { TaskEventBus } from "../events.js";
import type { Instrumentation } from "../observability/instrumentation.js";
import { type Logger, safeLog } from "../observability/logger.js";
import type { Registry } from "../registry/registry.js";
import type { ResultBroadcaster } from "../results/broadcaster.js";
import { decideRetry, isLastAttempt } from "../retry/policy.js";
import { Alarm } from "../scheduling/alarm.js";
import type { Clock } from "../scheduling/clock.js";
import { IndexedHeap } from "../scheduling/indexed-heap.js";
import type { TaskResult } from "../types.js";
import { Attempt } from "./attempt.js";
import { type AttemptOwner, invokeHandler } from "./invoke-handler.js";
import type { TerminalStatus } from "./states.js";
import type { TaskDispatcher as Dispatcher } from "./task-dispatcher.js";
import { errorInfo, type TaskRecord } from "./task-record.js";
import { transition } from "./transitions.js";

/** What the runner needs from the rest of the engine. */
export interface RunnerDeps {
  readonly clock: Clock;
  readonly random: () => number;
  readonly logger: Logger;
  readonly registry: Registry;
  readonly events: TaskEventBus;
  readonly results: ResultBroadcaster;
  readonly instrumentation: Instrumentation;
  /** Told of every terminal transition (stop reports, dead letters, retention timer). */
  readonly onTerminal: (record: TaskRecord) => void;
}

/** Running totals for `stats()`. */
export interface RunnerCounters {
  submitted: number;
  started: number;
  retried: number;
  succeeded: number;
  failed: number;
  cancelled: number;
  expired: number;
  /** Handlers that settled after their attempt was aborted (they ignored `ctx.signal`). */
  lateSettlements: number;
}

/** Counters at zero: a new runner's, and the totals of a backend that runs no memory tasks. */
export function zeroCounters(): RunnerCounters {
  return {
    submitted: 0,
    started: 0,
    retried: 0,
    succeeded: 0,
    failed: 0,
    cancelled: 0,
    expired: 0,
    lateSettlements: 0,
  };
}

/**
 * Runs attempts and decides what follows each: success, retry, failure, cancellation, expiry.
 * Every terminal outcome goes through `#finish`, which performs the one terminal transition
 * and then tells everyone who waits on it (result promises, subscribers, events, registry).
 */
export class TaskRunner implements AttemptOwner {
  readonly counters: RunnerCounters = zeroCounters();
  /** Tasks accepted and not yet terminal. */
  live = 0;
  /** Attempts whose handler has not settled, including aborted ones. */
  /** Aborted attempts whose handler has not settled yet: the candidates for "abandoned". */
  readonly abortedInFlight = new Set<Attempt>();
  #dispatcher!: Dispatcher;
  readonly #deps: RunnerDeps;
  readonly #deadlines = new IndexedHeap<Attempt>(
    (a, b) => a.deadline < b.deadline,
    (attempt, index) => {
      attempt.deadlineIndex = index;
    },
    (attempt) => attempt.deadlineIndex,
  );
  readonly #deadlineAlarm: Alarm;
  readonly #expiries = new IndexedHeap<TaskRecord>(
    (a, b) => (a.expiresAt as number) < (b.expiresAt as number),
    (record, index) => {
      record.expiryIndex = index;
    },
    (record) => record.expiryIndex,
  );
  readonly #expiryAlarm: Alarm;
  readonly #onProgress = (attempt: Attempt, value: unknown) => this.#progress(attempt, value);

  constructor(deps: RunnerDeps) {
    this.#deps = deps;
    this.#deadlineAlarm = new Alarm(deps.clock, (now) => this.#timeOutDue(now));
    this.#expiryAlarm = new Alarm(deps.clock, (now) => this.#expireDue(now));
  }

  /** @internal Wires the dispatcher (they refer to each other). */
  attach(dispatcher: Dispatcher): void {
    this.#dispatcher = dispatcher;
  }

  /** Takes a newly accepted task into the scheduling path. */
  accept(record: TaskRecord): void {
    this.live++;
    this.counters.submitted++;
    // A TTL only guards the first start: a task re-opened by a DLQ replay already started.
    if (record.expiresAt !== undefined && record.startedAt === undefined) {
      this.#expiries.push(record);
      if (this.#expiries.peek() === record) this.#expiryAlarm.armAt(record.expiresAt);
    }
    this.#deps.instrumentation.queued(record);
    if (this.#deps.events.wants("queued"))
      this.#deps.events.emit("queued", { task: record.snapshot() });
    this.#dispatcher.enqueue(record);
  }

  /** Called by the dispatcher once the task holds a slot and a token. */
  start(record: TaskRecord): void {
    const now = this.#deps.clock.now();
    if (
      record.expiresAt !== undefined &&
      record.expiresAt <= now &&
      record.startedAt === undefined
    ) {
      this.#expires(record, now);
      this.#dispatcher.release(record);
      return;
    }
    if (!transition(record, "running", now)) {
      // Unreachable by construction (only live tasks are ready); never run a task twice.
      this.#dispatcher.release(record);
      return;
    }
    if (record.expiryIndex >= 0) this.#forgetExpiry(record);
    record.attempts++;
    record.startedAt ??= now;
    this.counters.started++;
    const attempt = new Attempt(record, now, this.#onProgress);
    record.attempt = attempt;
    if (attempt.deadline !== Number.POSITIVE_INFINITY) {
      this.#deadlines.push(attempt);
      if (this.#deadlines.peek() === attempt) this.#deadlineAlarm.armAt(attempt.deadline);
    }
    this.#deps.instrumentation.started(attempt);
    if (this.#deps.events.wants("started"))
      this.#deps.events.emit("started", { task: record.snapshot(), attempt: attempt.attempt });

    if (record.status === "running") invokeHandler(attempt, this.#deps.instrumentation, this);
    // A `started` listener cancelled the task: never call a handler for an ended attempt.
    else Promise.resolve().then(() => this.settled(attempt, attempt.abortReason, undefined));
  }

  /** Cancels a live task; returns false if it had already ended. */
  cancel(record: TaskRecord, reason: CancelReason): boolean {
    const now = this.#deps.clock.now();
    const status = record.status;
    if (status === "running") {
      const error = new CancelledError(reason);
      if (record.attempt !== undefined) this.#abort(record.attempt, error, now);
      return this.#finish(record, "cancelled", undefined, error, now);
    }
    if (status === "queued" || status === "scheduled" || status === "retrying") {
      this.#dispatcher.remove(record);
      if (record.expiryIndex >= 0) this.#forgetExpiry(record);
      return this.#finish(record, "cancelled", undefined, new CancelledError(reason), now);
    }
    return false;
  }

  /** Stops timers this runner owns. */
  close(): void {
    this.#deadlineAlarm.cancel();
    this.#expiryAlarm.cancel();
    this.#expiries.drain();
  }

  /** @internal An attempt's handler settled (called by `invokeHandler`). */
  settled(attempt: Attempt, error: Error | undefined, value: unknown): void {
    attempt.settled = true;
    if (attempt.abortedAt !== undefined) this.abortedInFlight.delete(attempt);
    if (attempt.deadlineIndex >= 0) {
      this.#deadlines.remove(attempt);
      if (this.#deadlines.size === 0) this.#deadlineAlarm.cancel();
    }
    const record = attempt.record;
    const now = this.#deps.clock.now();
    const current = record.attempt === attempt && record.status === "running";
    // An aborted attempt failed for its abort reason (a timeout, a cancel), whatever it returned.
    const failure = attempt.abortReason ?? error;
    this.#deps.instrumentation.attemptEnded(attempt, failure, now);
    if (record.attempt === attempt) record.attempt = undefined;
    if (!current) {
      if (ignoredSignal(attempt, error, now)) this.#reportIgnoredSignal(attempt, now);
    } else if (failure === undefined) {
      this.#finish(record, "succeeded", value, undefined, now);
    } else {
      this.#failed(record, failure, now);
    }
    this.#dispatcher.release(record);
  }

  #abort(attempt: Attempt, reason: Error, now: number): void {
    attempt.abort(reason, now);
    this.abortedInFlight.add(attempt);
  }

  /** An armed timer with nothing left to wait for would keep an idle process alive. */
  #forgetExpiry(record: TaskRecord): void {
    this.#expiries.remove(record);
    if (this.#expiries.size === 0) this.#expiryAlarm.cancel();
  }

  #reportIgnoredSignal(attempt: Attempt, now: number): void {
    this.counters.lateSettlements++;
    const record = attempt.record;
    safeLog(
      this.#deps.logger,
      "warn",
      {
        taskId: record.id,
        name: record.name,
        attempt: attempt.attempt,
        status: record.status,
        msAfterAbort: now - (attempt.abortedAt ?? now),
      },
      "taskmill handler ignored its abort signal; its late outcome is ignored (honour ctx.signal)",
    );
  }

  #failed(record: TaskRecord, error: Error, now: number): void {
    const decision = decideRetry(record, error, this.#deps.random);
    if (!decision.retry) {
      this.#finish(record, "failed", undefined, error, now);
      return;
    }
    if (!transition(record, "retrying", now)) return;
    record.error = error;
    record.runAt = now + decision.delayMs;
    this.counters.retried++;
    this.#deps.instrumentation.retrying(record, decision.delayMs, error);
    if (this.#deps.events.wants("retrying"))
      this.#deps.events.emit("retrying", {
        task: record.snapshot(),
        attempt: record.attempts,
        delayMs: decision.delayMs,
        error: errorInfo(error),
      });
    this.#dispatcher.enqueue(record);
  }

  #expires(record: TaskRecord, now: number): void {
    this.#dispatcher.remove(record);
    this.#finish(record, "expired", undefined, new ExpiredError(), now);
  }

  /**
   * The one terminal transition of a task and everything that follows it. Returns false if the
   * task had already ended (the transition table refused), in which case nothing happens.
   */
  #finish(
    record: TaskRecord,
    status: TerminalStatus,
    value: unknown,
    error: Error | undefined,
    now: number,
  ): boolean {
    if (!transition(record, status, now)) return false;
    record.value = value;
    record.error = error;
    this.live--;
    this.counters[status]++;
    record.detachSignal?.();
    record.detachSignal = undefined;
    const outcome = record.outcome;
    if (outcome !== undefined) {
      record.outcome = undefined;
      if (status === "succeeded") outcome.resolve(value);
      else outcome.reject(error);
    }
    this.#deps.registry.finished(record);
    this.#deps.instrumentation.finished(record, status);
    if (this.#deps.results.size > 0) this.#deps.results.publish(toResult(record, status));
    this.#emitTerminal(record, status);
    this.#deps.onTerminal(record);
    return true;
  }

  #emitTerminal(record: TaskRecord, status: TerminalStatus): void {
    const events = this.#deps.events;
    if (!events.wants(status)) return;
    const task = record.snapshot();
    const error = record.error;
    switch (status) {
      case "succeeded":
        events.emit("succeeded", { task, value: record.value });
        return;
      case "failed":
        events.emit("failed", { task, error: errorInfo(error as Error) });
        return;
      case "cancelled":
        events.emit("cancelled", {
          task,
          reason: error instanceof CancelledError ? error.reason : "cancel",
        });
        return;
      case "expired":
        events.emit("expired", { task });
        return;
    }
  }

  #progress(attempt: Attempt, value: unknown): void {
    const record = attempt.record;
    if (record.attempt !== attempt || record.status !== "running") return;
    record.progress = value;
    if (this.#deps.events.wants("progress"))
      this.#deps.events.emit("progress", { task: record.snapshot(), value });
  }

  #timeOutDue(now: number): void {
    for (let next = this.#deadlines.peek(); next !== undefined; next = this.#deadlines.peek()) {
      if (next.deadline > now) {
        this.#deadlineAlarm.armAt(next.deadline);
        return;
      }
      this.#deadlines.pop();
      const record = next.record;
      const error = new TimeoutError(record.timeoutMs);
      this.#abort(next, error, now);
      // A last attempt fails at its deadline. An earlier one waits for its handler to let go,
      // so two attempts of one task never overlap; a handler that honours its signal does so
      // at once.
      if (record.attempt === next && isLastAttempt(record))
        this.#finish(record, "failed", undefined, error, now);
    }
  }

  #expireDue(now: number): void {
    for (let next = this.#expiries.peek(); next !== undefined; next = this.#expiries.peek()) {
      if ((next.expiresAt as number) > now) {
        this.#expiryAlarm.armAt(next.expiresAt as number);
        return;
      }
      this.#expiries.pop();
      this.#expires(next, now);
    }
  }
}

/** Grace a handler gets to react to its abort signal before it counts as ignoring it. */
const ABORT_GRACE_MS = 1_000;

/**
 * A handler ignored its signal if it still succeeded after the abort, or took longer than the
 * grace period to settle.
 */
function ignoredSignal(attempt: Attempt, error: Error | undefined, now: number): boolean {
  if (attempt.abortedAt === undefined) return false;
  return error === undefined || now - attempt.abortedAt >= ABORT_GRACE_MS;
}

/** The result subscribers receive for a task that just ended. */
export function toResult(record: TaskRecord, status: TerminalStatus): TaskResult {
  return {
    id: record.id,
    name: record.name,
    queue: record.queue,
    status,
    value: status === "succeeded" ? record.value : undefined,
    error: record.error === undefined ? undefined : errorInfo(record.error),
    attempts: record.attempts,
    createdAt: record.createdAt,
    startedAt: record.startedAt,
    finishedAt: record.finishedAt as number,
  };
}
