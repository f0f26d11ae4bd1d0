/**
 * The attempts the durable worker runs now, and the executor's outcome strategy for them
 * (`AttemptOutcomes`): every decision goes to the outcome writer, fenced by the attempt's token,
 * and stops the lease's renewal. Also where an attempt is ended from outside its handler: a
 * cancel through the store, a lost lease, a stop that hands the task back.
 */
import { CancelledError, StaleLeaseError, UnsupportedError } from "../../errors.js";
import type { Attempt, TaskRecord } from "../../lifecycle/task-record.js";
import type { Instrumentation } from "../../observability/instrumentation.js";
import { type Logger, safeLog } from "../../observability/logger.js";
import type { DurableStore } from "../../stores/durable-store.js";
import type { ClaimedTask } from "../../stores/durable-types.js";
import type { TransactionClient } from "../../types.js";
import type { AttemptOutcomes } from "../executor.js";
import type { LeaseKeeper } from "./lease-keeper.js";
import type { HeldTask, OutcomeWriter } from "./outcome-writer.js";

/** A claimed task running here: its lease, its local record and its attempt. */
export interface Active extends HeldTask {
  attempt: Attempt | undefined;
}

/** What the running attempts need from the worker. */
export interface RunningAttemptsDeps {
  readonly store: DurableStore;
  readonly logger: Logger;
  readonly instrumentation: Instrumentation;
  readonly keeper: LeaseKeeper;
  readonly writer: OutcomeWriter;
  /** Ends an attempt now (the executor's `end`): its handler's signal aborts with `reason`. */
  readonly end: (attempt: Attempt, reason: CancelledError) => void;
  /** A handler let go: its slot in `queue` is free. */
  readonly released: (queue: string) => void;
}

/** A task handed back at a stop: `written` once the store took it. */
export interface HandedBack {
  readonly id: string;
  written: boolean;
}

export class RunningAttempts implements AttemptOutcomes {
  readonly #deps: RunningAttemptsDeps;
  /** Every handler that has not settled, by record: the cap counts all of them. */
  readonly #active = new Map<TaskRecord, Active>();
  /** The latest attempt per task id (a task reclaimed and claimed here again has two). */
  readonly #byId = new Map<string, Active>();

  constructor(deps: RunningAttemptsDeps) {
    this.#deps = deps;
  }

  /** Handlers running now (decided or not: until they let go). */
  get size(): number {
    return this.#active.size;
  }

  /** A claimed task starts here; its attempt is set once the executor runs it. */
  add(task: ClaimedTask, record: TaskRecord): Active {
    const active: Active = { task, record, attempt: undefined };
    this.#active.set(record, active);
    this.#byId.set(task.id, active);
    return active;
  }

  /** Whether some attempt running here has no outcome yet. */
  hasUndecided(): boolean {
    for (const active of this.#active.values())
      if (active.attempt !== undefined && !active.attempt.decided) return true;
    return false;
  }

  /** Ids of handlers that have not settled (after a stop: the ones ignoring their abort). */
  unsettled(): string[] {
    return [...this.#active.values()].map((active) => active.task.id);
  }

  /** Aborts the local attempt of `id`, if it runs here (the task was cancelled elsewhere). */
  abortLocal(id: string, reason: CancelledError): void {
    const active = this.#byId.get(id);
    if (active?.attempt === undefined || active.attempt.decided) return;
    this.#deps.end(active.attempt, reason);
    this.#deps.keeper.release(id);
  }

  /**
   * Aborts every undecided attempt and hands its task back to the store (a retry with no
   * delay); `writes` settle as the store takes them.
   */
  handBackAll(): { handedBack: HandedBack[]; writes: Promise<unknown>[] } {
    const { keeper, writer } = this.#deps;
    const handedBack: HandedBack[] = [];
    const writes: Promise<unknown>[] = [];
    for (const active of this.#active.values()) {
      const attempt = active.attempt;
      if (attempt === undefined || attempt.decided) continue;
      const reason = new CancelledError("stop");
      this.#deps.end(attempt, reason);
      keeper.release(active.task.id);
      const entry = { id: active.task.id, written: false };
      handedBack.push(entry);
      writes.push(
        writer.handBack(active, reason).then((outcome) => {
          entry.written = outcome === "written";
        }),
      );
    }
    return { handedBack, writes };
  }

  /** The lease keeper could not renew the lease of `id`: its handler must stop. */
  leaseLost(id: string, error: StaleLeaseError): void {
    const active = this.#byId.get(id);
    if (active?.attempt === undefined || active.attempt.decided) return;
    // A cancel through the store ends the lease on purpose: not a loss to alert on.
    if (error.reason !== "cancelled") this.#deps.instrumentation.leaseLost?.(active.record);
    safeLog(
      this.#deps.logger,
      "warn",
      { taskId: id, reason: error.reason },
      "taskmill lost the lease of a running task; aborting its handler",
    );
    this.#deps.end(
      active.attempt,
      new CancelledError(error.reason === "cancelled" ? "cancel" : "lease"),
    );
  }

  // The executor's outcomes (AttemptOutcomes): each goes to the writer, fenced by the token.

  /** @internal */
  succeeded(attempt: Attempt, value: unknown): void {
    const active = this.#heldBy(attempt);
    this.#deps.keeper.release(active.task.id);
    // Sent with the next step, together with the claim for this slot.
    this.#deps.writer.queueAck(active, value);
  }

  /** @internal */
  retrying(attempt: Attempt, delayMs: number, error: Error): void {
    const active = this.#heldBy(attempt);
    this.#deps.keeper.release(active.task.id);
    this.#deps.writer.retry(active, delayMs, error);
  }

  /** @internal A last attempt may fail at its deadline while its handler still runs. */
  failed(attempt: Attempt, error: Error): void {
    const active = this.#heldBy(attempt);
    this.#deps.keeper.release(active.task.id);
    this.#deps.writer.fail(active, error);
  }

  /** @internal */
  progressed(attempt: Attempt, value: unknown): void {
    this.#deps.writer.progress(this.#heldBy(attempt), value);
  }

  /**
   * @internal `ctx.completeWithin(tx, value)`: the success goes into the caller's transaction,
   * fenced by the attempt's token (a stale one rejects with `StaleLeaseError`). The lease is no
   * longer renewed: the caller's commit settles the task (the row stays locked by `tx` until
   * then, so no reaper takes it); after a rollback the handler's own outcome applies.
   */
  async completeWithin(attempt: Attempt, tx: TransactionClient, value: unknown): Promise<void> {
    const store = this.#deps.store;
    if (store.completeIn === undefined)
      throw new UnsupportedError(
        'ctx.completeWithin() needs a store with transactions (backend { type: "postgres" })',
      );
    const active = this.#active.get(attempt.record);
    if (active === undefined || attempt.record.attempt !== attempt)
      throw new StaleLeaseError(attempt.taskId, String(attempt.fence), "not-running");
    await store.completeIn(tx, active.task.id, active.task.token, value);
    this.#deps.keeper.release(active.task.id);
  }

  /** @internal The handler let go: its slot is free. */
  released(attempt: Attempt): void {
    const active = this.#active.get(attempt.record);
    if (active === undefined) return;
    this.#active.delete(attempt.record);
    const { task } = active;
    if (this.#byId.get(task.id) === active) this.#byId.delete(task.id);
    this.#deps.released(task.queue);
  }

  #heldBy(attempt: Attempt): Active {
    return this.#active.get(attempt.record) as Active;
  }
}
