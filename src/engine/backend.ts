/**
 * The seam between the manager and where tasks live. `TaskManager` validates, owns the handlers,
 * events, results, schedules and the stop sequence; a backend holds the tasks: process memory
 * (`memory/memory-backend.ts`) or Redis (`redis/durable/durable-engine.ts`).
 */

import type { AuditStore } from "../audit/types.js";
import type { WorkerInfo } from "../fleet.js";
import type { FlowHandle } from "../flows/flow-types.js";
import type { CheckedNode } from "../flows/validate-flow.js";
import type { DepthSnapshot } from "../observability/metrics.js";
import type {
  DeadLetterListOptions,
  DeadLetterOutcome,
  DeadLetterPage,
  DeadLetterSelector,
  ReplayOptions,
} from "../registry/dead-letters.js";
import type { ResultBackfill } from "../results/subscription.js";
import type { RetryPolicy } from "../retry/backoff.js";
import type { CronLeadership } from "../scheduling/cron.js";
import type {
  ListOptions,
  QueueInfo,
  SubmitOptions,
  TaskHandle,
  TaskHandler,
  TaskPage,
  TaskSnapshot,
  TransactionClient,
} from "../types.js";
import type { RunnerCounters } from "./counters.js";
import type { ScheduleStorePort } from "./schedule-sync.js";
import type { SubmitManyItem } from "./submit-many.js";

/** A handler as registered, with its options resolved against the manager's defaults. */
export interface RegisteredHandler {
  readonly handler: TaskHandler;
  readonly retry: RetryPolicy;
  readonly timeoutMs: number;
  readonly queue: string;
}

/** Connection state of the backend. */
export interface BackendHealth {
  readonly backend: "memory" | "redis" | "postgres" | "sqlite";
  /**
   * `unresponsive`: the connection is open but the store has not answered a ping for longer
   * than `backend.callTimeoutMs` (frozen, paused, or a black-holed path).
   */
  readonly status: "connected" | "connecting" | "reconnecting" | "unresponsive" | "closed";
}

/** What `mill.health()` returns: the backend's connection state and whether a stop began. */
export interface ManagerHealth extends BackendHealth {
  /**
   * True once `stopGraceful()` or `stopNow()` was called: the manager accepts no new work, so a
   * readiness probe should take it out of rotation.
   */
  readonly stopping: boolean;
}

/** The dead-letter queue operations, as `mill.dlq` exposes them. */
export interface DeadLetterOperations {
  list(options?: DeadLetterListOptions): Promise<DeadLetterPage>;
  /**
   * Re-opens failed tasks (same ids) and queues them again; with `{ dryRun: true }` reports
   * what it would do. Rejects with `InvalidArgumentError` for a `dryRun` or `resetAttempts`
   * that is not a boolean (a string "true" is never read as a dry run, nor as a real one).
   */
  replay(selector: DeadLetterSelector, options?: ReplayOptions): Promise<DeadLetterOutcome>;
  purge(selector: DeadLetterSelector): Promise<DeadLetterOutcome>;
}

/** The backend's share of `mill.stats()`: running totals plus the current figures. */
export interface BackendStats extends RunnerCounters {
  /** Attempts holding a slot now. */
  readonly running: number;
  /** Tasks ready to start. */
  readonly queued: number;
  /** Delayed tasks and retries waiting for their backoff. */
  readonly waiting: number;
  /** Tasks accepted and not yet finished. */
  readonly live: number;
  /** Finished records kept for `get` and `list`. */
  readonly retained: number;
  /** Tasks in the dead-letter queue. */
  readonly deadLetters: number;
}

/** What a stop hands back: tasks whose handlers never let go, tasks returned to the backend. */
export interface AbortOutcome {
  readonly abandoned: readonly string[];
  readonly requeued: readonly string[];
  /** Tasks whose outcome or hand-back the store had not taken within the grace period. */
  readonly unwritten: readonly string[];
}

export interface Backend {
  /** Accepts a validated submit; `handler` is undefined when this process has none for `name`. */
  submit<R>(
    name: string,
    payload: unknown,
    options: SubmitOptions,
    handler: RegisteredHandler | undefined,
  ): TaskHandle<R> | Promise<TaskHandle<R>>;
  /**
   * Accepts a batch already checked by `validateSubmitMany`: all or nothing, handles in order.
   * `handlers` is the manager's table (an item may name a task this process has no handler for).
   */
  submitMany(
    items: readonly SubmitManyItem[],
    handlers: ReadonlyMap<string, RegisteredHandler>,
    tx?: TransactionClient,
  ): TaskHandle[] | Promise<TaskHandle[]>;
  /**
   * Accepts a flow already checked by `checkFlow`, atomically: every node or none. A batch is a
   * flow of `kind: "batch"`.
   */
  submitFlow(
    nodes: readonly CheckedNode[],
    handlers: ReadonlyMap<string, RegisteredHandler>,
    kind: "flow" | "batch",
  ): FlowHandle | Promise<FlowHandle>;
  /** A flow (or batch) by id, live or still retained. */
  getFlow(id: string): Promise<FlowHandle | undefined>;
  get(id: string): Promise<TaskSnapshot | undefined>;
  /** Cancels a task, or every node not yet ended of the flow with this id. */
  cancel(id: string): Promise<boolean>;
  list(options?: ListOptions): Promise<TaskPage>;
  /** Pauses `queue`; resolves once it holds for every process of the backend. */
  pause(queue: string): void | Promise<void>;
  resume(queue: string): void | Promise<void>;
  queues(): Promise<QueueInfo[]>;
  /** The worker registry of a shared store; absent: this process is the only worker. */
  workers?(): Promise<WorkerInfo[]>;
  /** The store's shared schedules; absent: schedules live in this process only. */
  scheduleStore?(): ScheduleStorePort;
  /** What the queue gauges report, read at each metrics collection. */
  depths(): DepthSnapshot | Promise<DepthSnapshot>;
  health(): BackendHealth;
  stats(): BackendStats;
  /**
   * `stats()` with the figures of the whole store (see `TaskManager.sharedStats`); the
   * memory store is the process, so the same as `stats()`.
   */
  sharedStats(): Promise<BackendStats>;
  /** A handler was registered. */
  handlersChanged(): void;
  /** Someone in this process listens to results or events. */
  wantEvents(): void;
  /** A result subscriber with the `block` policy made room again. */
  resultsFreed(): void;
  readonly dlq: DeadLetterOperations;
  /** Where the admin audit trail is kept (the store of durable modes, process memory else). */
  readonly audit: AuditStore;
  /**
   * Where `subscribeResults({ after })` replays from; `undefined` when the backend keeps no
   * result history (memory mode), so `after` is ignored.
   * @throws InvalidArgumentError if `after` is not a position of this backend.
   */
  backfill(after: string): ResultBackfill | undefined;
  /** The gate that lets one process of many fire cron ticks; `undefined`: every tick fires here. */
  cronLeadership(): CronLeadership | undefined;
  /**
   * Graceful stop: take no new work, let running tasks finish. Resolves `true` once they did,
   * `false` when `deadline` came first. `deadlineAt` (clock ms) is when that will be at the
   * latest: work not due before it is not waited for.
   */
  drain(deadline: Promise<unknown>, deadlineAt: number): Promise<boolean>;
  /**
   * Stop now: abort or hand back everything still running. Resolves within about `graceMs`
   * whatever the store does; what it could not write by then is `unwritten`.
   */
  abort(graceMs: number): Promise<AbortOutcome>;
  /** Tasks whose aborted handlers are still running after a drain that finished. */
  unsettled(): readonly string[];
  /** Drops every connection, timer and listener of the backend's. Idempotent. */
  close(): Promise<void>;
  /** Drops every connection at once, without waiting for the store (it did not answer). */
  destroy(): void;
}

/** What `stats()` returns: running totals plus the current figures. */
export interface ManagerStats extends BackendStats {
  /** Open result subscriptions. */
  readonly subscribers: number;
  /** Results dropped by subscribers' overflow policies, in total. */
  readonly resultsDropped: number;
}
