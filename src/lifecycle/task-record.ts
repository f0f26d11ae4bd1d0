import type { Context } from "@opentelemetry/api";
import { UnsupportedError } from "../errors.js";
import type { RetryPolicy } from "../retry/backoff.js";
import type {
  DependencyOutcome,
  ErrorInfo,
  TaskContext,
  TaskHandler,
  TaskSnapshot,
  TransactionClient,
} from "../types.js";
import type { TaskStatus } from "./states.js";

/** A promise with its settle functions. */
export interface Deferred {
  readonly promise: Promise<unknown>;
  resolve(value: unknown): void;
  reject(reason: unknown): void;
}

/** The engine's own view of one task. Only `transitions.ts` writes `status`. */
export class TaskRecord {
  status: TaskStatus;
  /** Attempts started so far. */
  attempts = 0;
  startedAt: number | undefined = undefined;
  finishedAt: number | undefined = undefined;
  /** When a delayed task or a retry becomes due. */
  runAt: number | undefined;
  value: unknown = undefined;
  error: Error | undefined = undefined;
  progress: unknown = undefined;
  /** The attempt in flight, if any. */
  attempt: Attempt | undefined = undefined;
  /** Position stamps in the registry's retention queue and the dead-letter queue (0 = absent). */
  retainedStamp = 0;
  deadLetterStamp = 0;
  /** FIFO order inside a priority; renewed each time the task enters a ready queue. */
  readySeq = 0;
  /** True while an entry for this task in a ready queue is live. */
  inReady = false;
  /** Positions in the indexed heaps (-1 when absent). */
  delayIndex = -1;
  expiryIndex = -1;
  /** The promise `result()` hands out while the task runs, created on first call. */
  outcome: Deferred | undefined = undefined;
  /** Detaches the submit `signal` listener. */
  detachSignal: (() => void) | undefined = undefined;
  /** The submitter's trace context, captured at submit when tracing is on; parents each attempt. */
  traceContext: Context | undefined = undefined;
  /** When the task last became due (accept or retry), for the queue-wait histogram. */
  dueAt = 0;
  /** The flow this task is a node of, if any (its records stay retained until the flow ends). */
  flowId: string | undefined = undefined;
  /** A flow node's dependencies' outcomes by ref, set when it is released: `ctx.dependencies`. */
  dependencies: Readonly<Record<string, DependencyOutcome>> = NO_DEPENDENCIES;

  constructor(
    readonly id: string,
    /** Submission order: the registry's key and the `list` cursor. */
    readonly order: number,
    readonly name: string,
    readonly queue: string,
    readonly payload: unknown,
    readonly priority: number,
    readonly handler: TaskHandler,
    readonly retry: RetryPolicy,
    readonly timeoutMs: number,
    readonly createdAt: number,
    runAt: number | undefined,
    readonly expiresAt: number | undefined,
    readonly idempotencyKey: string | undefined,
    /** A flow node with dependencies starts `waiting` for them. */
    waiting = false,
  ) {
    this.runAt = runAt;
    this.status = waiting ? "waiting" : runAt === undefined ? "queued" : "scheduled";
  }

  /** The snapshot `get()` returns: with the payload and the error's stack. */
  detail(): TaskSnapshot {
    const snapshot = this.snapshot();
    return {
      ...snapshot,
      ...(this.error === undefined ? {} : { error: errorDetail(this.error) }),
      ...(this.payload === undefined ? {} : { payload: this.payload }),
    };
  }

  snapshot(): TaskSnapshot {
    return {
      id: this.id,
      name: this.name,
      queue: this.queue,
      status: this.status,
      priority: this.priority,
      attempts: this.attempts,
      maxRetries: this.retry.maxRetries,
      createdAt: this.createdAt,
      runAt: this.runAt,
      expiresAt: this.expiresAt,
      startedAt: this.startedAt,
      finishedAt: this.finishedAt,
      idempotencyKey: this.idempotencyKey,
      progress: this.progress,
      value: this.value,
      error: this.error === undefined ? undefined : errorInfo(this.error),
    };
  }
}

/** `ctx.dependencies` of a task outside flows. */
export const NO_DEPENDENCIES: Readonly<Record<string, DependencyOutcome>> = Object.freeze({});
/** The longest stack trace kept with a task (longer ones are cut), so stores stay bounded. */
export const MAX_STACK_CHARS = 8192;

/** `errorInfo` plus the error's stack (cut to {@link MAX_STACK_CHARS}): what `get()` shows. */
export function errorDetail(error: Error): ErrorInfo {
  const info = errorInfo(error);
  const stack = error.stack;
  return typeof stack === "string" && stack.length > 0
    ? { ...info, stack: stack.slice(0, MAX_STACK_CHARS) }
    : info;
}

/** An error as plain data, safe to serialise. */
export function errorInfo(error: Error): ErrorInfo {
  const code = (error as { code?: unknown }).code;
  return typeof code === "string" || typeof code === "number"
    ? { name: error.name, message: error.message, code: String(code) }
    : { name: error.name, message: error.message };
}

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
    readonly onCompleteWithin?: (
      attempt: Attempt,
      tx: TransactionClient,
      value: unknown,
    ) => Promise<void>,
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

  get dependencies(): Readonly<Record<string, DependencyOutcome>> {
    return this.record.dependencies;
  }

  progress(value: unknown): void {
    if (!this.decided) this.onProgress(this, value);
  }

  completeWithin(tx: TransactionClient, value?: unknown): Promise<void> {
    if (this.onCompleteWithin === undefined)
      return Promise.reject(
        new UnsupportedError(
          'ctx.completeWithin() needs a store with transactions (backend { type: "postgres" })',
        ),
      );
    return this.onCompleteWithin(this, tx, value);
  }
}
