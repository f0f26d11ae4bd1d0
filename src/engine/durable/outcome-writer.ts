/**
 * The durable stores' completer: writes the outcomes the executor decides, each fenced by the
 * attempt's token. Successes wait for the worker's next step call, which carries them together
 * with the claim for the slots they freed (one round trip per batch); retries, failures,
 * hand-backs and progress go out at once. A write that fails for a connection error is retried
 * until the lease would have expired (after that another worker owns the task and the write
 * would be refused anyway).
 *
 * This process counts an outcome (metrics, hooks, logs, stop report) only once the store took it:
 * a refused late ack must not count a success that another worker's result replaced, and a
 * hook that sees `succeeded` may rely on the result being stored.
 */

import { InvalidArgumentError, StaleLeaseError } from "../../errors.js";
import type { TaskRecord } from "../../lifecycle/task-record.js";
import { transition } from "../../lifecycle/transitions.js";
import type { Instrumentation } from "../../observability/instrumentation.js";
import { type Logger, safeLog } from "../../observability/logger.js";
import type { Clock } from "../../scheduling/clock.js";
import type { DurableStore } from "../../stores/durable-store.js";
import type { AckRef, ClaimedTask } from "../../stores/durable-types.js";
import type { RunnerCounters } from "../counters.js";

/** A task this process holds a lease on, and its local record. */
export interface HeldTask {
  readonly task: ClaimedTask;
  readonly record: TaskRecord;
}

/** A finished handler's ack waiting for the next step call. */
export interface PendingAck {
  readonly held: HeldTask;
  readonly value: unknown;
}

/** How an outcome write ended: `failed` means a result that is not JSON failed the task. */
export type WriteOutcome = "written" | "failed" | "lost";

export interface OutcomeWriterDeps {
  readonly store: DurableStore;
  readonly clock: Clock;
  readonly logger: Logger;
  readonly instrumentation: Instrumentation;
  readonly counters: RunnerCounters;
  /** A task this process ran reached a terminal state in the store (for the stop report). */
  readonly onFinished: (record: TaskRecord) => void;
  /** Something changed that the worker's loop or its `idle()` waits for. */
  readonly onChange: () => void;
}

/** Progress writes of one task: one in flight at a time, the latest value next. */
interface ProgressState {
  inFlight: boolean;
  next: { readonly value: unknown } | undefined;
}

export class OutcomeWriter {
  readonly #deps: OutcomeWriterDeps;
  #acks: PendingAck[] = [];
  readonly #writes = new Set<Promise<unknown>>();
  readonly #progress = new Map<string, ProgressState>();
  /** Tasks whose outcome write is in flight (retried on connection errors). */
  readonly #writing = new Map<HeldTask, number>();
  /** Slots still held by outcomes whose write failed once and is being retried. */
  heldForWrite = 0;
  #closed = false;

  constructor(deps: OutcomeWriterDeps) {
    this.#deps = deps;
  }

  /** Tasks whose outcome the store has not taken yet: acks waiting, writes in flight. */
  unwrittenIds(): string[] {
    const ids = new Set(this.#acks.map((ack) => ack.held.task.id));
    for (const held of this.#writing.keys()) ids.add(held.task.id);
    return [...ids];
  }

  /** Acks waiting for the next step, plus writes in flight. */
  get pending(): number {
    return this.#acks.length + this.#writes.size;
  }

  get hasAcks(): boolean {
    return this.#acks.length > 0;
  }

  /** Resolves when one write in flight settles (or at once if none). */
  anyWrite(): Promise<unknown> {
    return Promise.race(this.#writes);
  }

  /** A success, sent with the next step call. */
  queueAck(held: HeldTask, value: unknown): void {
    held.record.value = value;
    this.#acks.push({ held, value });
  }

  /** Hands the queued acks to a step call. */
  takeAcks(): { readonly acks: PendingAck[]; readonly refs: AckRef[] } {
    const acks = this.#acks;
    this.#acks = [];
    return {
      acks,
      refs: acks.map(({ held, value }) => ({ id: held.task.id, token: held.task.token, value })),
    };
  }

  /**
   * Per ack of a step reply: written ones count as successes here, refused ones are logged
   * (someone else decided), a result that is not JSON fails the task.
   */
  acked(acks: readonly PendingAck[], results: ReadonlyArray<number | Error>): void {
    const deps = this.#deps;
    acks.forEach(({ held }, i) => {
      const result = results[i];
      if (result instanceof StaleLeaseError) this.#refused(held, result);
      else if (result instanceof InvalidArgumentError) {
        held.record.error = result;
        void this.#write(held, () => deps.store.fail(held.task.id, held.task.token, result)).then(
          (outcome) => {
            if (outcome !== "lost") this.#failed(held.record);
          },
        );
      } else if (typeof result === "number") this.#succeeded(held.record);
    });
  }

  /** The step carrying `acks` failed: each ack is retried on its own, its slot held meanwhile. */
  ackFailed(acks: readonly PendingAck[]): void {
    const deps = this.#deps;
    for (const { held, value } of acks) {
      this.heldForWrite++;
      void this.#write(held, () => deps.store.ack(held.task.id, held.task.token, value))
        .then((outcome) => {
          if (outcome === "written") this.#succeeded(held.record);
          else if (outcome === "failed") this.#failed(held.record);
        })
        .finally(() => {
          this.heldForWrite--;
          deps.onChange();
        });
    }
  }

  /** A retry after `delayMs`. */
  retry(held: HeldTask, delayMs: number, error: Error): void {
    const { task, record } = held;
    record.error = error;
    void this.#write(held, () =>
      this.#deps.store.nack(task.id, task.token, { delayMs }, error, task.queue),
    ).then((outcome) => {
      if (outcome === "written") this.#retrying(record, delayMs, error);
      else if (outcome === "failed") this.#failed(record);
    });
  }

  /** A failure for good (into the dead-letter queue). */
  fail(held: HeldTask, error: Error): void {
    const { task, record } = held;
    record.error = error;
    void this.#write(held, () => this.#deps.store.fail(task.id, task.token, error)).then(
      (outcome) => {
        if (outcome !== "lost") this.#failed(record);
      },
    );
  }

  /** Stop now: the task goes back to its queue at once, for another process. */
  handBack(held: HeldTask, reason: Error): Promise<WriteOutcome> {
    const { task } = held;
    return this.#write(held, () =>
      this.#deps.store.nack(task.id, task.token, { delayMs: 0 }, reason, task.queue),
    );
  }

  /**
   * Stores the attempt's latest progress, fenced by its token. Writes of one task never
   * overlap: a value reported while one is in flight replaces any value still waiting.
   */
  progress(held: HeldTask, value: unknown): void {
    const id = held.task.id;
    let state = this.#progress.get(id);
    if (state === undefined) {
      state = { inFlight: false, next: undefined };
      this.#progress.set(id, state);
    }
    state.next = { value };
    if (!state.inFlight) this.#sendProgress(held, state);
  }

  #sendProgress(held: HeldTask, state: ProgressState): void {
    const next = state.next;
    if (next === undefined) {
      this.#progress.delete(held.task.id);
      return;
    }
    state.next = undefined;
    state.inFlight = true;
    const write = this.#deps.store.progress(held.task.id, held.task.token, next.value).then(
      () => undefined,
      (error: unknown) => {
        // Progress is informational: a refused or failed write never fails the task.
        if (!(error instanceof StaleLeaseError))
          safeLog(
            this.#deps.logger,
            "warn",
            { err: error, taskId: held.task.id },
            "taskmill could not store a task's progress",
          );
      },
    );
    this.#track(
      write.then(() => {
        state.inFlight = false;
        this.#sendProgress(held, state);
      }),
    );
  }

  /** Writes still waiting go out now, ahead of the connection's QUIT. */
  flush(send: (acks: PendingAck[], refs: AckRef[]) => void): void {
    if (this.#acks.length === 0) return;
    const { acks, refs } = this.takeAcks();
    send(acks, refs);
  }

  /**
   * Stops retrying: after a stop, a write the store has not taken is given up (the task's
   * lease lapses and it runs again elsewhere) instead of keeping the process alive.
   */
  close(): void {
    this.#closed = true;
  }

  /** Keeps `promise` among the writes `idle()` and `pending` wait for. */
  track(promise: Promise<unknown>): void {
    this.#track(promise);
  }

  #track(promise: Promise<unknown>): void {
    this.#writes.add(promise);
    promise.finally(() => {
      this.#writes.delete(promise);
      this.#deps.onChange();
    });
  }

  /**
   * Writes an outcome, retrying connection errors until the lease would have expired. A
   * refused (stale) write means someone else decided: nothing to do.
   */
  #write(held: HeldTask, write: () => Promise<unknown>): Promise<WriteOutcome> {
    const deps = this.#deps;
    // The lease was renewed at most a third of a lease ago: it surely holds this long.
    const deadline = deps.clock.now() + (deps.store.leaseMs * 2) / 3;
    const run = async (): Promise<WriteOutcome> => {
      for (let delay = 50; ; delay = Math.min(delay * 2, 1_000)) {
        try {
          await write();
          return "written";
        } catch (error) {
          if (error instanceof StaleLeaseError) {
            this.#refused(held, error);
            return "lost";
          }
          if (error instanceof InvalidArgumentError) {
            // The handler returned something that is not JSON: the task fails with that.
            held.record.error = error;
            return deps.store.fail(held.task.id, held.task.token, error).then(
              () => "failed",
              () => "lost",
            );
          }
          if (this.#closed) return "lost";
          if (deps.clock.now() + delay >= deadline) {
            safeLog(
              deps.logger,
              "error",
              { err: error, taskId: held.task.id },
              "taskmill could not write an outcome before the lease ran out; the task will run again",
            );
            return "lost";
          }
          // Unref'd: a write still retrying must not keep a stopped process alive.
          await new Promise((resolve) => setTimeout(resolve, delay).unref());
        }
      }
    };
    this.#writing.set(held, (this.#writing.get(held) ?? 0) + 1);
    const promise = run().finally(() => {
      const left = (this.#writing.get(held) ?? 1) - 1;
      if (left === 0) this.#writing.delete(held);
      else this.#writing.set(held, left);
    });
    this.#track(promise);
    return promise;
  }

  #refused(held: HeldTask, error: StaleLeaseError): void {
    if (error.reason !== "cancelled") this.#deps.instrumentation.leaseLost?.(held.record);
    safeLog(
      this.#deps.logger,
      "info",
      { taskId: held.task.id, reason: error.reason },
      "taskmill outcome refused: the lease is no longer ours",
    );
  }

  #succeeded(record: TaskRecord): void {
    if (!transition(record, "succeeded", this.#deps.clock.now())) return;
    this.#deps.counters.succeeded++;
    this.#deps.instrumentation.finished(record, "succeeded");
    this.#deps.onFinished(record);
  }

  #failed(record: TaskRecord): void {
    if (!transition(record, "failed", this.#deps.clock.now())) return;
    this.#deps.counters.failed++;
    this.#deps.instrumentation.finished(record, "failed");
    this.#deps.onFinished(record);
  }

  #retrying(record: TaskRecord, delayMs: number, failure: Error): void {
    const now = this.#deps.clock.now();
    record.runAt = now + delayMs;
    if (!transition(record, "retrying", now)) return;
    this.#deps.counters.retried++;
    this.#deps.instrumentation.retrying(record, delayMs, failure);
  }
}
