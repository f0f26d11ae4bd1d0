/**
 * The data a durable store takes and returns through the port (`durable-store.ts`). Times are
 * epoch milliseconds of the store's own clock (Redis `TIME`, the database's `now()`), never a
 * worker's.
 */
import type { TaskStatus } from "../lifecycle/states.js";
import type { DependencyOutcome, ErrorInfo } from "../types.js";

/** A value that survives `JSON.stringify` / `JSON.parse` unchanged. */
export type JsonValue =
  | null
  | boolean
  | number
  | string
  | readonly JsonValue[]
  | { readonly [key: string]: JsonValue };

/** A task to store. Only `name` is required. */
export interface EnqueueInput {
  /** The task id. @default a random v4 UUID */
  readonly id?: string;
  readonly name: string;
  /** @default "default" */
  readonly queue?: string;
  /** Must be JSON data (plain objects, arrays, strings, finite numbers, booleans, null). */
  readonly payload?: unknown;
  /** Higher runs first; FIFO within a priority. @default 0 */
  readonly priority?: number;
  /** Start no earlier than this many ms after the store holds the task. */
  readonly delayMs?: number;
  /** Start no earlier than this epoch time (ms). Wins over `delayMs`. */
  readonly runAt?: number;
  /** Expire if not started within this many ms after the store holds the task. */
  readonly ttlMs?: number;
  /** Expire if not started by this epoch time (ms). Wins over `ttlMs`. */
  readonly expiresAt?: number;
  /** Same key and same name + payload: the first task is returned instead of a new one. */
  readonly idempotencyKey?: string;
  /** Stored for snapshots and for the worker's retry decision. */
  readonly maxRetries?: number;
  /** Per-attempt timeout the worker applies. */
  readonly timeoutMs?: number;
  /** Retry settings the worker applies (opaque to the store; functions cannot be stored). */
  readonly retry?: JsonValue;
  /** Anything else that travels with the task, e.g. `{ traceparent }` (opaque to the store). */
  readonly meta?: JsonValue;
}

/** What `enqueue` did. */
export interface EnqueueResult {
  readonly id: string;
  /** False when an idempotency key (or the id) named a task that already existed. */
  readonly created: boolean;
  /** The task's status right after the call. */
  readonly status: TaskStatus;
}

/** A task as a durable store holds it. */
export interface StoredTask {
  readonly id: string;
  readonly name: string;
  readonly queue: string;
  readonly status: TaskStatus;
  readonly priority: number;
  /** `undefined` when listed (payloads are only read by `get` and `claim`). */
  readonly payload: unknown;
  /** Attempts started so far; `ctx.attempt` of a claimed task. Counts redeliveries too. */
  readonly attempts: number;
  /** Deliveries since the last outcome (nack or replay resets it); poison detection. */
  readonly deliveries: number;
  readonly createdAt: number;
  readonly runAt: number | undefined;
  readonly expiresAt: number | undefined;
  readonly startedAt: number | undefined;
  readonly finishedAt: number | undefined;
  /** The current (or last) fencing token. */
  readonly token: string | undefined;
  readonly leaseUntil: number | undefined;
  readonly maxRetries: number | undefined;
  readonly timeoutMs: number | undefined;
  readonly retry: JsonValue | undefined;
  readonly meta: JsonValue | undefined;
  readonly idempotencyKey: string | undefined;
  /** The handler's result once succeeded. */
  readonly value: unknown;
  /**
   * The last value a handler reported with `progress` (kept after the task ends). Only `get`
   * reads it: `undefined` when listed or claimed.
   */
  readonly progress: unknown;
  /** The last error (kept while retrying, and on a replayed task until it succeeds). */
  readonly error: ErrorInfo | undefined;
}

/** A task this worker now holds a lease on. */
export interface ClaimedTask extends StoredTask {
  readonly token: string;
  /**
   * The lease's fencing token as a number (`token` is its decimal text): every claim takes the
   * next value of one counter per prefix, so it increases across attempts, workers and
   * processes. A handler can fence its own side effects with it (`ctx.fence`).
   */
  readonly fence: number;
  readonly leaseUntil: number;
  readonly startedAt: number;
  /** A flow node's dependencies' outcomes by ref (`ctx.dependencies`); absent outside flows. */
  readonly dependencies?: Readonly<Record<string, DependencyOutcome>>;
}

/** What one `claim` call did. */
export interface ClaimResult {
  readonly tasks: readonly ClaimedTask[];
  /** Store time when the claim ran. */
  readonly now: number;
  /** Earliest due time of a delayed task or retry, if any: bound a blocking wait by it. */
  readonly nextDueAt: number | undefined;
  /** > 0 when the global rate bucket stopped the claim with work left: wait this long. */
  readonly rateWaitMs: number;
  /** Tasks moved to the dead-letter queue instead of being returned (too many deliveries). */
  readonly poisoned: number;
  /** Tasks that expired before their first start. */
  readonly expired: number;
}

/** When a nacked task runs again: after `delayMs` of store time, or at `runAt`. */
export type RetryAt = { readonly delayMs: number } | { readonly runAt: number };

/** What one `reclaim` pass did. */
export interface ReclaimResult {
  /** Tasks whose lease expired, put back into their ready queue. */
  readonly reclaimed: number;
  /** Tasks whose lease expired once too often, moved to the dead-letter queue. */
  readonly poisoned: number;
  /** Ms until the earliest lease still held expires (store time); undefined when none is. */
  readonly nextExpiryInMs: number | undefined;
}

/** What `cancel` did. */
export interface CancelResult {
  /** False when the task had already finished. */
  readonly cancelled: boolean;
  /** True when the task was running: its worker's ack will be refused. */
  readonly wasRunning: boolean;
}

/** What a `trim` pass evicted. */
export interface TrimResult {
  readonly finished: number;
  readonly deadLetters: number;
}

/** Depth of one queue. */
export interface QueueDepth {
  readonly name: string;
  /** Tasks ready to start now. */
  readonly depth: number;
}

/** Counts across all queues of one prefix. */
export interface StoreCounts {
  /** Delayed tasks and retries waiting for their due time. */
  readonly delayed: number;
  /** Tasks holding a lease. */
  readonly running: number;
  readonly deadLetters: number;
  /** Finished records retained. */
  readonly finished: number;
}

/**
 * Outcomes recorded by the store since it was created, across every process: counted in the
 * same atomic step that appends each event, so every process reads the same figures.
 */
export interface StoreTotals {
  readonly succeeded: number;
  readonly failed: number;
  readonly cancelled: number;
  readonly expired: number;
  /** Retries scheduled (one per failed attempt that will run again). */
  readonly retried: number;
}

/** One entry of the events stream: a lifecycle change of one task. */
export interface TaskEvent {
  /** The stream entry id; pass it back to read what came after. */
  readonly streamId: string;
  readonly id: string;
  readonly name: string;
  readonly queue: string;
  /** `succeeded | failed | cancelled | expired` (results), `retrying`, or `queued` (replay). */
  readonly status: TaskStatus;
  readonly attempts: number;
  /** Store time of the change. */
  readonly at: number;
  readonly createdAt: number | undefined;
  readonly startedAt: number | undefined;
  readonly finishedAt: number | undefined;
  /** When a retry is due. */
  readonly runAt: number | undefined;
  readonly value: unknown;
  readonly error: ErrorInfo | undefined;
  /** `lease-expired` for a reclaim, `replay` for a DLQ replay. */
  readonly reason: string | undefined;
}

/** One lease to renew. */
export interface LeaseRef {
  readonly id: string;
  readonly token: string;
}

/** One success to record in a step. */
export interface AckRef extends LeaseRef {
  /** The handler's result: JSON data or `undefined`. */
  readonly value?: unknown;
}

/** A claim's request identity, so a call whose reply was lost can get its leases back. */
export interface StepOptions {
  /** Unique per call ("" or absent: no replay protection). */
  readonly requestId?: string;
  /** Request ids of earlier calls whose reply never arrived. */
  readonly unanswered?: readonly string[];
}

/** What a step did: the claim, and per ack its finish time or its error. */
export interface StepResult extends ClaimResult {
  /** Per ack, in order: the finish time, or `StaleLeaseError` / `InvalidArgumentError`. */
  readonly acks: Array<number | Error>;
}

/** One page of tasks; pass `nextCursor` back to continue. */
export interface StoredTaskPage {
  readonly tasks: readonly StoredTask[];
  /**
   * Absent on the last page. A page may hold fewer than `limit` tasks and still have a
   * cursor (a selective filter stops after examining a bounded number of entries).
   */
  readonly nextCursor?: string;
}
