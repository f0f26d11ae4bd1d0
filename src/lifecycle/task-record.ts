import type { Context } from "@opentelemetry/api";
import type { RetryPolicy } from "../retry/backoff.js";
import type { ErrorInfo, TaskHandler, TaskSnapshot } from "../types.js";
import type { Attempt } from "./attempt.js";
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
  ) {
    this.runAt = runAt;
    this.status = runAt === undefined ? "queued" : "scheduled";
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

/** An error as plain data, safe to serialise. */
export function errorInfo(error: Error): ErrorInfo {
  const code = (error as { code?: unknown }).code;
  return typeof code === "string" || typeof code === "number"
    ? { name: error.name, message: error.message, code: String(code) }
    : { name: error.name, message: error.message };
}
