import { type RunnerCounters, zeroCounters } from "../../engine/counters.js";
import { AttemptExecutor, type AttemptOutcomes } from "../../engine/executor.js";
import { CancelledError, type CancelReason, ExpiredError } from "../../errors.js";
import type { TaskEventBus } from "../../events.js";
import type { TerminalStatus } from "../../lifecycle/states.js";
import type { Attempt } from "../../lifecycle/task-record.js";
import { errorInfo, type TaskRecord } from "../../lifecycle/task-record.js";
import { transition } from "../../lifecycle/transitions.js";
import type { Instrumentation } from "../../observability/instrumentation.js";
import type { Logger } from "../../observability/logger.js";
import type { Registry } from "../../registry/registry.js";
import type { ResultBroadcaster } from "../../results/broadcaster.js";
import { Alarm } from "../../scheduling/alarm.js";
import type { Clock } from "../../scheduling/clock.js";
import { IndexedHeap } from "../../scheduling/indexed-heap.js";
import type { TaskResult } from "../../types.js";
import { decodeJson, encodeJson } from "../json-codec.js";
import type { TaskDispatcher as Dispatcher } from "./task-dispatcher.js";

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
  /** Told of every terminal transition of a flow's task, right after `onTerminal`. */
  readonly onFlowNodeEnded: (record: TaskRecord) => void;
  /** `payloads: "json"`: results travel through JSON, as in durable mode. */
  readonly jsonResults?: boolean;
}

/**
 * The memory store's side of the lifecycle: it accepts tasks, starts them when the dispatcher
 * hands them a slot and a token, hands each attempt to the one {@link AttemptExecutor}, and
 * records the outcomes the executor decides, at once (the synchronous fast path). Every
 * terminal outcome goes through `#finish`, which performs the one terminal transition and then
 * tells everyone who waits on it (result promises, subscribers, events, registry).
 */
export class TaskRunner implements AttemptOutcomes {
  readonly counters: RunnerCounters = zeroCounters();
  /** Tasks accepted and not yet terminal. */
  live = 0;
  readonly #executor: AttemptExecutor;
  #dispatcher!: Dispatcher;
  /** The fencing token of the last attempt started: one counter for the whole store. */
  #fence = 0;
  readonly #deps: RunnerDeps;
  readonly #expiries = new IndexedHeap<TaskRecord>(
    (a, b) => (a.expiresAt as number) < (b.expiresAt as number),
    (record, index) => {
      record.expiryIndex = index;
    },
    (record) => record.expiryIndex,
  );
  readonly #expiryAlarm: Alarm;

  constructor(deps: RunnerDeps) {
    this.#deps = deps;
    if (deps.jsonResults === true) this.succeeded = this.#succeededJson;
    this.#executor = new AttemptExecutor({
      clock: deps.clock,
      random: deps.random,
      logger: deps.logger,
      events: deps.events,
      instrumentation: deps.instrumentation,
      counters: this.counters,
      outcomes: this,
    });
    this.#expiryAlarm = new Alarm(deps.clock, (now) => this.#expireDue(now));
  }

  /** Aborted attempts whose handler has not settled yet: the candidates for "abandoned". */
  get abortedInFlight(): ReadonlySet<Attempt> {
    return this.#executor.abortedInFlight;
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
    // A flow node waiting for its dependencies is queued (and announced) when released.
    if (record.status === "waiting") return;
    this.#queue(record);
  }

  /**
   * A flow node's dependencies have all ended: `waiting` becomes `queued` (or `scheduled` while
   * its own delay has not passed) and it takes the one scheduling path like any other task.
   */
  release(record: TaskRecord): void {
    const now = this.#deps.clock.now();
    const delayed = record.runAt !== undefined && record.runAt > now;
    if (!transition(record, delayed ? "scheduled" : "queued", now)) return;
    if (!delayed) record.runAt = undefined;
    this.#queue(record);
  }

  /** Announces `record` as queued and hands it to the one scheduling path. */
  #queue(record: TaskRecord): void {
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
    this.#executor.run(record, ++this.#fence, now);
  }

  /** Cancels a live task; returns false if it had already ended. */
  cancel(record: TaskRecord, reason: CancelReason, dependency?: string): boolean {
    const now = this.#deps.clock.now();
    const status = record.status;
    if (status === "running") {
      const error = new CancelledError(reason, dependency);
      if (record.attempt !== undefined) this.#executor.end(record.attempt, error);
      return this.#finish(record, "cancelled", undefined, error, now);
    }
    if (status === "queued" || status === "scheduled" || status === "retrying") {
      this.#dispatcher.remove(record);
      if (record.expiryIndex >= 0) this.#forgetExpiry(record);
      return this.#finish(
        record,
        "cancelled",
        undefined,
        new CancelledError(reason, dependency),
        now,
      );
    }
    if (status === "waiting") {
      if (record.expiryIndex >= 0) this.#forgetExpiry(record);
      return this.#finish(
        record,
        "cancelled",
        undefined,
        new CancelledError(reason, dependency),
        now,
      );
    }
    return false;
  }

  /** Stops timers this runner owns. */
  close(): void {
    this.#executor.close();
    this.#expiryAlarm.cancel();
    this.#expiries.drain();
  }

  /** @internal {@link AttemptOutcomes}: recorded at once, in the executor's turn. */
  succeeded(attempt: Attempt, value: unknown, now: number): void {
    this.#finish(attempt.record, "succeeded", value, undefined, now);
  }

  /**
   * `succeeded` with `payloads: "json"` (installed over it by the constructor, so the default
   * path stays the one-line method above): as in durable mode, a result that is not JSON fails
   * the task, without a retry.
   */
  #succeededJson(attempt: Attempt, value: unknown, now: number): void {
    let json: unknown;
    try {
      json = decodeJson(encodeJson("value", value));
    } catch (error) {
      this.#finish(attempt.record, "failed", undefined, error as Error, now);
      return;
    }
    this.#finish(attempt.record, "succeeded", json, undefined, now);
  }

  /** @internal */
  failed(attempt: Attempt, error: Error, now: number): void {
    this.#finish(attempt.record, "failed", undefined, error, now);
  }

  /** @internal */
  retrying(attempt: Attempt, delayMs: number, error: Error, now: number): void {
    const record = attempt.record;
    if (!transition(record, "retrying", now)) return;
    record.error = error;
    record.runAt = now + delayMs;
    this.counters.retried++;
    this.#deps.instrumentation.retrying(record, delayMs, error);
    if (this.#deps.events.wants("retrying"))
      this.#deps.events.emit("retrying", {
        task: record.snapshot(),
        attempt: record.attempts,
        delayMs,
        error: errorInfo(error),
      });
    this.#dispatcher.enqueue(record);
  }

  /** @internal Progress lives on the record itself in memory. */
  progressed(): void {}

  /** @internal */
  released(attempt: Attempt): void {
    this.#dispatcher.release(attempt.record);
  }

  /** An armed timer with nothing left to wait for would keep an idle process alive. */
  #forgetExpiry(record: TaskRecord): void {
    this.#expiries.remove(record);
    if (this.#expiries.size === 0) this.#expiryAlarm.cancel();
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
    // A flow's records enter retention together, when the whole flow has ended.
    if (record.flowId === undefined) this.#deps.registry.finished(record);
    this.#deps.instrumentation.finished(record, status);
    if (this.#deps.results.size > 0) this.#deps.results.publish(toResult(record, status));
    this.#emitTerminal(record, status);
    this.#deps.onTerminal(record);
    if (record.flowId !== undefined) this.#deps.onFlowNodeEnded(record);
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
