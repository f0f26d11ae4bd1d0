import type { TaskStatus, TerminalStatus } from "./lifecycle/states.js";
import type { RetryOptions } from "./retry/backoff.js";

/** What a handler receives besides its payload. */
export interface TaskContext {
  /** The task's id (stable across attempts). */
  readonly taskId: string;
  /** The registered task name. */
  readonly name: string;
  /** The queue the task runs in. */
  readonly queue: string;
  /** 1 for the first run, 2 for the first retry, and so on. */
  readonly attempt: number;
  /**
   * The attempt's fencing token: a number that increases across the attempts of a task and,
   * in durable stores, across processes. A handler can fence its own side effects with it
   * (`UPDATE ... SET last_fence = $fence WHERE last_fence < $fence`), so that a stale attempt
   * (its lease lost to another worker) cannot overwrite a newer one's writes.
   */
  readonly fence: number;
  /**
   * Fires when this attempt must stop: its timeout passed, the task was cancelled, or the
   * manager is stopping now. `signal.reason` is a `TimeoutError` or `CancelledError`.
   */
  readonly signal: AbortSignal;
  /**
   * Reports progress (any JSON-friendly value): kept by the store, so `get(id).progress` shows
   * it from any process, and emitted as a `progress` event.
   */
  progress(value: unknown): void;
  /**
   * Postgres: records this attempt's success, with `value` as its result, inside the caller's
   * open transaction `tx` (a `pg` client after `BEGIN`), checked against the attempt's fence.
   * The success counts if and only if `tx` commits, together with the business writes made in
   * it. If the lease was lost (another worker holds the task now, or it was cancelled) it
   * rejects with `StaleLeaseError` and changes nothing: roll `tx` back. Whatever the handler
   * returns afterwards changes nothing. Other stores reject with `UnsupportedError`.
   */
  completeWithin(tx: TransactionClient, value?: unknown): Promise<void>;
  /**
   * In a flow (or a batch's `then` task): the outcome of each of this node's dependencies, by
   * ref. Every dependency has ended by the time the node starts. Empty outside flows.
   */
  readonly dependencies: Readonly<Record<string, DependencyOutcome>>;
}

/** How a flow node's dependency ended, as `ctx.dependencies[ref]` and `flow.result()` give it. */
export interface DependencyOutcome {
  readonly status: "succeeded" | "failed" | "cancelled" | "expired";
  /** The task's result, when it succeeded. */
  readonly value?: unknown;
  /** Why it did not succeed. */
  readonly error?: ErrorInfo;
}

/**
 * A database client inside the caller's open transaction: a `pg` client (node-postgres) after
 * `BEGIN`. taskmill runs its statements on it and never commits, rolls back or releases it.
 */
export interface TransactionClient {
  query(text: string, values?: unknown[]): Promise<unknown>;
}

/** A function that does the work of a task. Its return value is the task's result. */
export type TaskHandler<P = unknown, R = unknown> = (
  payload: P,
  ctx: TaskContext,
) => R | Promise<R>;

/** Per-handler settings given to `register`. */
export interface HandlerOptions {
  /** Overrides the manager's retry policy for this task name. */
  readonly retry?: RetryOptions;
  /** Per-attempt timeout for this task name. `0` or absent means the manager default. */
  readonly timeoutMs?: number;
  /** Default queue for tasks of this name. @default "default" */
  readonly queue?: string;
}

/** Per-task settings given to `submit` and `run`. */
export interface SubmitOptions {
  /** Same key, same task: a second submit returns the first task. */
  readonly idempotencyKey?: string;
  /** Higher runs first; FIFO within a priority. @default 0 */
  readonly priority?: number;
  /** Start no earlier than this many ms from now. */
  readonly delayMs?: number;
  /** Start no earlier than this time (a Date or epoch ms). */
  readonly runAt?: Date | number;
  /** Queue to run in. @default the handler's queue, else "default" */
  readonly queue?: string;
  /** End the task `expired` if it has not started within this many ms. */
  readonly ttlMs?: number;
  /** End the task `expired` if it has not started by this time. */
  readonly expiresAt?: Date | number;
  /** Aborting it cancels the task (queued or running). */
  readonly signal?: AbortSignal;
  /** Overrides the handler's retry policy for this task only. */
  readonly retry?: RetryOptions;
  /** Overrides the handler's timeout for this task only. */
  readonly timeoutMs?: number;
  /**
   * Postgres: enqueue inside this open transaction (a `pg` client after `BEGIN`). The task
   * exists if and only if the transaction commits; workers are woken at its commit. Other
   * backends reject such a submit with `UnsupportedError`.
   */
  readonly tx?: TransactionClient;
}

/** Options for `run()`, which also accepts a display `name`. */
export interface RunOptions extends SubmitOptions {
  /** Name shown in events, results and metrics. @default "run" */
  readonly name?: string;
}

/** An error as data: what results, snapshots and the DLQ carry. */
export interface ErrorInfo {
  readonly name: string;
  readonly message: string;
  /** The taskmill error code, or the `code` property of the thrown error when it has one. */
  readonly code?: string;
  /**
   * The thrown error's stack trace (at most 8192 characters). Only `get()`
   * returns it; lists, results and events leave it out. The admin API, CLI and dashboard show
   * it only when the admin handler is created with `exposePayloads: true`.
   */
  readonly stack?: string;
}

/** A read-only picture of a task at one moment. */
export interface TaskSnapshot {
  readonly id: string;
  readonly name: string;
  readonly queue: string;
  readonly status: TaskStatus;
  readonly priority: number;
  /** Attempts started so far. */
  readonly attempts: number;
  /**
   * Retries allowed after the first attempt. In durable mode, for a task submitted without its
   * own `retry.maxRetries`, the figure of the process reading it (its handler's, else its
   * default): the worker that runs the task applies its own handler's policy.
   */
  readonly maxRetries: number;
  readonly createdAt: number;
  /** When a delayed or retrying task becomes due. */
  readonly runAt?: number;
  readonly expiresAt?: number;
  readonly startedAt?: number;
  readonly finishedAt?: number;
  readonly idempotencyKey?: string;
  readonly progress?: unknown;
  readonly value?: unknown;
  readonly error?: ErrorInfo;
  /**
   * The task's payload. Only `get()` returns it (lists and the dead-letter list leave it out).
   * The admin API, CLI and dashboard show it only when the admin handler is created with
   * `exposePayloads: true` (after its `redact` hook); the logger never sees it unless
   * `logPayloads` is set.
   */
  readonly payload?: unknown;
}

/** One finished task, as delivered to result subscribers. */
export interface TaskResult<R = unknown> {
  readonly id: string;
  readonly name: string;
  readonly queue: string;
  readonly status: TerminalStatus;
  /** The handler's return value when `status` is `succeeded`. */
  readonly value?: R;
  /** Why the task did not succeed. */
  readonly error?: ErrorInfo;
  readonly attempts: number;
  readonly createdAt: number;
  /** First start, absent when the task never ran. */
  readonly startedAt?: number;
  readonly finishedAt: number;
  /**
   * Durable mode: the position of this result in the Redis events stream. Pass it as
   * `subscribeResults({ after })` to resume after this result. Absent in memory mode.
   */
  readonly eventId?: string;
}

/** What `submit` and `run` return. */
export interface TaskHandle<R = unknown> {
  readonly id: string;
  readonly name: string;
  readonly queue: string;
  /**
   * Resolves with the handler's return value once the task succeeds; rejects with the final
   * error (the handler's own error, `TimeoutError`, `CancelledError` or `ExpiredError`).
   * Independent of result subscriptions; unobserved failures never cause unhandled rejections.
   */
  result(): Promise<R>;
}

/** Filters for `list`. */
export interface ListOptions {
  readonly status?: TaskStatus | readonly TaskStatus[];
  readonly queue?: string;
  readonly name?: string;
  /** @default 100 */
  readonly limit?: number;
  /** `nextCursor` from the previous page (of a listing in the same `order`). */
  readonly cursor?: string;
  /**
   * `"oldest"` first (the default) or `"newest"` first: exactly the reverse walk, cursors
   * working in both. Memory orders by submission; durable stores walk their state indexes
   * (ready tasks, delayed, running, dead letters by failure, finished by finish), so
   * `"newest"` starts with the tasks that finished last.
   * @default "oldest"
   */
  readonly order?: ListOrder;
}

/** Which end of a listing comes first. */
export type ListOrder = "newest" | "oldest";

/** One page of `list`. */
export interface TaskPage {
  readonly tasks: readonly TaskSnapshot[];
  /** Pass as `cursor` to get the next page; absent on the last page. */
  readonly nextCursor?: string;
}

/** Per-queue figures from `queues()`. */
export interface QueueInfo {
  readonly name: string;
  /** Tasks ready to start (queued or retry-due), not counting delayed ones. */
  readonly depth: number;
  /** Delayed tasks and retries waiting for their backoff. */
  readonly waiting: number;
  readonly running: number;
  readonly paused: boolean;
  /** This queue's own cap, or `undefined` for the manager's. */
  readonly concurrency?: number;
}

/** What a stop did, returned by `stopGraceful` and `stopNow`. */
export interface StopReport {
  /** Tasks that reached succeeded, failed or expired while stopping. */
  readonly finished: readonly string[];
  /** Tasks cancelled by the stop (never started, or aborted while running). */
  readonly cancelled: readonly string[];
  /**
   * Aborted tasks whose handlers had not settled when the stop returned: they ignored their
   * signal. They are `cancelled`; a late result changes nothing.
   */
  readonly abandoned: readonly string[];
  /**
   * Durable mode: running tasks handed back to Redis by the stop (their handlers were aborted),
   * to run again in another process. Always empty in memory mode.
   */
  readonly requeued: readonly string[];
  /**
   * Durable mode: tasks whose outcome or hand-back the store had not taken when the stop's
   * deadline ran out (the store was unreachable or frozen). Nothing is lost: their leases run
   * out and another process runs them again. Always empty in memory mode.
   */
  readonly unwritten: readonly string[];
  /** True when the graceful deadline passed (or its signal fired) and work was aborted. */
  readonly escalated: boolean;
}

/** Options for `stopGraceful`. */
export interface StopGracefulOptions {
  /**
   * Deadline for work to finish before it is aborted. The stop resolves at most a fraction of a
   * second after it, whatever the store does (connections it cannot close are dropped).
   * @default 30_000
   */
  readonly timeoutMs?: number;
  /** Aborting it escalates to `stopNow()` at once. */
  readonly signal?: AbortSignal;
}
