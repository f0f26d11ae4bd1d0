import type { TaskContext } from "../types.js";
import type { TaskRecord } from "./task-record.js";

/**
 * One run of a task's handler, and the `ctx` the handler receives. Every abort source
 * (timeout, cancel, stopNow, a lost lease) calls `abort()` on this one object, so there is one
 * `AbortController` per attempt, created only if the handler reads `ctx.signal`.
 */
export class Attempt implements TaskContext {
  readonly taskId: string;
  readonly name: string;
  readonly queue: string;
  readonly attempt: number;
  /** The attempt's fencing token: increasing across the attempts of a task and across processes. */
  readonly fence: number;
  /** Deadline (epoch ms) or +Infinity without a timeout; its heap slot in `deadlineIndex`. */
  readonly deadline: number;
  deadlineIndex = -1;
  /** Set once the handler's promise settled. */
  settled = false;
  /**
   * Set once the task's outcome no longer depends on this attempt's handler: it settled, or the
   * task was cancelled, stopped, timed out for good or lost its lease meanwhile. A handler that
   * settles after that only frees its slot.
   */
  decided = false;
  /** When `abort()` was first called. */
  abortedAt: number | undefined;
  #controller: AbortController | undefined;
  #abortReason: Error | undefined;

  constructor(
    readonly record: TaskRecord,
    readonly startedAt: number,
    fence: number,
    readonly onProgress: (attempt: Attempt, value: unknown) => void,
  ) {
    this.fence = fence;
    this.taskId = record.id;
    this.name = record.name;
    this.queue = record.queue;
    this.attempt = record.attempts;
    this.deadline = record.timeoutMs > 0 ? startedAt + record.timeoutMs : Number.POSITIVE_INFINITY;
  }

  get signal(): AbortSignal {
    if (this.#controller === undefined) {
      this.#controller = new AbortController();
      if (this.#abortReason !== undefined) this.#controller.abort(this.#abortReason);
    }
    return this.#controller.signal;
  }

  /** Why this attempt was aborted, if it was. The first reason wins. */
  get abortReason(): Error | undefined {
    return this.#abortReason;
  }

  /** Aborts the attempt's signal once; later calls keep the first reason. */
  abort(reason: Error, now: number): void {
    if (this.#abortReason !== undefined) return;
    this.#abortReason = reason;
    this.abortedAt = now;
    this.#controller?.abort(reason);
  }

  progress(value: unknown): void {
    if (!this.decided) this.onProgress(this, value);
  }
}
