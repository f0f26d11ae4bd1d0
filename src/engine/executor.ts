/**
 * The one executor: runs the attempts of tasks whatever store holds them. It calls the handler
 * with its `ctx`, times the attempt out on the injectable clock (one heap of deadlines, one
 * timer), decides what follows each attempt (success, retry after a backoff, failure), emits
 * `started` and `progress`, and reports a handler that ignored its abort signal.
 *
 * Where an outcome goes is the store's business: the executor hands it to the
 * {@link AttemptOutcomes} strategy it was given. The memory store applies it at once, in the
 * same turn (its synchronous fast path); the Redis store writes it with the attempt's fencing
 * token, batching acks into its next claim.
 *
 * An attempt's outcome is decided exactly once (`attempt.decided`): by its handler settling, or
 * earlier by a cancel, a stop, a lost lease or the deadline of a last attempt. A handler that
 * settles after that changes nothing; its slot stays held until it does, so the concurrency cap
 * stays true.
 */
import { TimeoutError } from "../errors.js";
import type { TaskEventBus } from "../events.js";
import { type AttemptOwner, invokeHandler } from "../lifecycle/invoke-handler.js";
import type { TaskRecord } from "../lifecycle/task-record.js";
import { Attempt } from "../lifecycle/task-record.js";
import type { Instrumentation } from "../observability/instrumentation.js";
import { type Logger, safeLog } from "../observability/logger.js";
import { decideRetry, isLastAttempt } from "../retry/policy.js";
import { Alarm } from "../scheduling/alarm.js";
import type { Clock } from "../scheduling/clock.js";
import { IndexedHeap } from "../scheduling/indexed-heap.js";
import type { TransactionClient } from "../types.js";
import type { RunnerCounters } from "./counters.js";

/**
 * Where the executor sends what an attempt decided: the store's strategy for recording
 * outcomes (the River "completer", graphile-worker's `completeJob`/`failJob`).
 */
export interface AttemptOutcomes {
  /** The handler returned `value`: the task succeeded. `now` is the clock's time of it. */
  succeeded(attempt: Attempt, value: unknown, now: number): void;
  /** The attempt failed and the retry policy allows another one after `delayMs`. */
  retrying(attempt: Attempt, delayMs: number, error: Error, now: number): void;
  /** The task failed for good: last attempt, `PermanentError`, or its last attempt timed out. */
  failed(attempt: Attempt, error: Error, now: number): void;
  /** `ctx.progress(value)` of an attempt still undecided (already set on `record.progress`). */
  progressed(attempt: Attempt, value: unknown): void;
  /** The handler let go: the attempt's slot is free (its outcome may have been decided before). */
  released(attempt: Attempt): void;
  /**
   * `ctx.completeWithin(tx, value)`: records the success in the caller's transaction, fenced
   * (stores with transactions only; absent elsewhere, and the call rejects `UnsupportedError`).
   */
  completeWithin?(attempt: Attempt, tx: TransactionClient, value: unknown): Promise<void>;
}

/** What the executor needs from the engine around it. */
export interface ExecutorDeps {
  readonly clock: Clock;
  readonly random: () => number;
  readonly logger: Logger;
  readonly events: TaskEventBus;
  readonly instrumentation: Instrumentation;
  /** This process's totals for `stats()`: the executor counts started attempts and late settles. */
  readonly counters: RunnerCounters;
  readonly outcomes: AttemptOutcomes;
}

/** Grace a handler gets to react to its abort signal before it counts as ignoring it. */
const ABORT_GRACE_MS = 1_000;

export class AttemptExecutor implements AttemptOwner {
  /** Aborted attempts whose handler has not settled yet: the candidates for "abandoned". */
  readonly abortedInFlight = new Set<Attempt>();
  readonly #deps: ExecutorDeps;
  readonly #deadlines = new IndexedHeap<Attempt>(
    (a, b) => a.deadline < b.deadline,
    (attempt, index) => {
      attempt.deadlineIndex = index;
    },
    (attempt) => attempt.deadlineIndex,
  );
  readonly #deadlineAlarm: Alarm;
  readonly #onProgress = (attempt: Attempt, value: unknown) => this.#progress(attempt, value);
  readonly #onCompleteWithin: Attempt["onCompleteWithin"];

  constructor(deps: ExecutorDeps) {
    this.#deps = deps;
    this.#deadlineAlarm = new Alarm(deps.clock, (now) => this.#timeOutDue(now));
    const outcomes = deps.outcomes;
    this.#onCompleteWithin =
      outcomes.completeWithin === undefined
        ? undefined
        : (attempt, tx, value) =>
            (outcomes.completeWithin as NonNullable<AttemptOutcomes["completeWithin"]>).call(
              outcomes,
              attempt,
              tx,
              value,
            );
  }

  /**
   * Runs attempt number `record.attempts` of a task the store just moved to `running` under
   * `fence`, at `now` (the caller's clock reading: the clock is read once per step on the hot
   * path, measured). The handler is called in this turn unless a `started` listener already
   * ended the task (then it settles as aborted in the next microtask, without a call).
   */
  run(record: TaskRecord, fence: number, now: number): Attempt {
    const deps = this.#deps;
    const attempt = new Attempt(record, now, fence, this.#onProgress, this.#onCompleteWithin);
    record.attempt = attempt;
    if (attempt.deadline !== Number.POSITIVE_INFINITY) {
      this.#deadlines.push(attempt);
      if (this.#deadlines.peek() === attempt) this.#deadlineAlarm.armAt(attempt.deadline);
    }
    deps.counters.started++;
    deps.instrumentation.started(attempt);
    if (deps.events.wants("started"))
      deps.events.emit("started", { task: record.snapshot(), attempt: attempt.attempt });
    if (!attempt.decided) invokeHandler(attempt, deps.instrumentation, this);
    else Promise.resolve().then(() => this.settled(attempt, attempt.abortReason, undefined));
    return attempt;
  }

  /**
   * Aborts an attempt's signal (cancel, stop, lost lease) and decides its outcome elsewhere:
   * the caller records it; the handler's own settlement will only free the slot.
   */
  end(attempt: Attempt, reason: Error): void {
    attempt.decided = true;
    this.#abort(attempt, reason, this.#deps.clock.now());
  }

  /** Stops the deadline timer. */
  close(): void {
    this.#deadlineAlarm.cancel();
  }

  /** @internal An attempt's handler settled (called by `invokeHandler`). */
  settled(attempt: Attempt, error: Error | undefined, value: unknown): void {
    const deps = this.#deps;
    attempt.settled = true;
    if (attempt.abortedAt !== undefined) this.abortedInFlight.delete(attempt);
    if (attempt.deadlineIndex >= 0) {
      this.#deadlines.remove(attempt);
      if (this.#deadlines.size === 0) this.#deadlineAlarm.cancel();
    }
    const record = attempt.record;
    const now = deps.clock.now();
    // An aborted attempt failed for its abort reason (a timeout, a cancel), whatever it returned.
    const failure = attempt.abortReason ?? error;
    deps.instrumentation.attemptEnded(attempt, failure, now);
    if (record.attempt === attempt) record.attempt = undefined;
    if (attempt.decided) {
      if (ignoredSignal(attempt, error, now)) this.#reportIgnoredSignal(attempt, now);
    } else {
      attempt.decided = true;
      if (failure === undefined) deps.outcomes.succeeded(attempt, value, now);
      else this.#failed(attempt, failure, now);
    }
    deps.outcomes.released(attempt);
  }

  #failed(attempt: Attempt, failure: Error, now: number): void {
    const decision = decideRetry(attempt.record, failure, this.#deps.random);
    if (decision.retry) this.#deps.outcomes.retrying(attempt, decision.delayMs, failure, now);
    else this.#deps.outcomes.failed(attempt, failure, now);
  }

  #abort(attempt: Attempt, reason: Error, now: number): void {
    attempt.abort(reason, now);
    if (!attempt.settled) this.abortedInFlight.add(attempt);
  }

  #progress(attempt: Attempt, value: unknown): void {
    const record = attempt.record;
    record.progress = value;
    this.#deps.outcomes.progressed(attempt, value);
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
      const error = new TimeoutError(next.record.timeoutMs);
      this.#abort(next, error, now);
      // A last attempt fails at its deadline, in every store. An earlier one waits for its
      // handler to let go, so two attempts of one task never overlap; a handler that honours
      // its signal does so at once.
      if (!next.decided && isLastAttempt(next.record)) {
        next.decided = true;
        this.#deps.outcomes.failed(next, error, now);
      }
    }
  }

  #reportIgnoredSignal(attempt: Attempt, now: number): void {
    this.#deps.counters.lateSettlements++;
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
}

/**
 * A handler ignored its signal if it still succeeded after the abort, or took longer than the
 * grace period to settle.
 */
function ignoredSignal(attempt: Attempt, error: Error | undefined, now: number): boolean {
  if (attempt.abortedAt === undefined) return false;
  return error === undefined || now - attempt.abortedAt >= ABORT_GRACE_MS;
}
