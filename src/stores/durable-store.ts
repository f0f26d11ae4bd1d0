/**
 * The port every durable store implements: the data operations the one durable engine
 * (`engine/durable/`) needs, and nothing of the lifecycle. The engine decides; the store
 * records, each write in one atomic step guarded by the attempt's fencing token.
 *
 * A store (Redis and SQLite today; Postgres next) implements this interface in its folder under
 * `stores/`, passes the conformance suite (`test/conformance/`) by adding one fixture file, and
 * is selected by `backend.type`. The memory store is not behind this port: it keeps the
 * lifecycle in the process, synchronously, and feeds the same executor.
 *
 * Rules every implementation keeps:
 * - Times are the store's own clock (never a worker's), in epoch ms.
 * - A claim hands out a lease and a fencing token that is greater than every token handed out
 *   before for any task of the store; `ack`, `nack`, `fail`, `progress` and `renew` with a token
 *   that no longer holds the lease are refused with `StaleLeaseError` and change nothing.
 * - Every status a store writes is an edge of `lifecycle/states.ts`'s transition table.
 * - Every terminal transition, retry, reclaim and replay appends one event to the feed in the
 *   same atomic step, so a reader that started before a task ended cannot miss its result.
 */

import type { AuditEntry, AuditQuery, AuditRecord, AuditStorePage } from "../audit/types.js";
import type { Logger } from "../observability/logger.js";
import type {
  DeadLetterListOptions,
  DeadLetterOutcome,
  DeadLetterSelector,
  ReplayOptions,
} from "../registry/dead-letters.js";
import type { Clock } from "../scheduling/clock.js";
import type { ErrorInfo, ListOptions, TransactionClient } from "../types.js";
import type { FlowInput, StoredFlow } from "./durable-flows.js";
import type {
  AckRef,
  CancelResult,
  EnqueueInput,
  EnqueueResult,
  LeaseRef,
  QueueDepth,
  ReclaimResult,
  RetryAt,
  StepOptions,
  StepResult,
  StoreCounts,
  StoredTask,
  StoredTaskPage,
  StoreTotals,
  TaskEvent,
  TrimResult,
} from "./durable-types.js";
import type { StoredSchedule, StoredWorker, WorkerReport } from "./fleet-types.js";

/** The lease a durable store grants when `backend.leaseMs` is not set. */
export const DEFAULT_LEASE_MS = 10_000;

/** The dead-letter queue of a store. */
export interface DeadLetterStore {
  list(options?: DeadLetterListOptions): Promise<StoredTaskPage>;
  replay(selector: DeadLetterSelector, options?: ReplayOptions): Promise<DeadLetterOutcome>;
  purge(selector?: DeadLetterSelector): Promise<DeadLetterOutcome>;
}

/** How a wait for work ended. */
export type WaitOutcome = "woken" | "timeout" | "aborted" | "closed";

/** Blocks until work may be ready in some queues (no busy polling); one wait at a time. */
export interface WorkWaiter {
  wait(queues: readonly string[], timeoutMs: number, signal?: AbortSignal): Promise<WaitOutcome>;
  close(): Promise<void>;
}

/** A reader of the events feed that may block; owns its connection. */
export interface EventReader {
  /** The position of the newest event ("0" when the feed is empty). */
  end(): Promise<string>;
  /** Events after position `after`, waiting up to `blockMs` when there are none yet. */
  read(after: string, count: number, blockMs: number): Promise<TaskEvent[]>;
  /** Ends a blocked read and releases the connection. */
  close(): void;
}

/** Why leadership changed (see {@link LeaderLockHandle}). */
export type LeadershipChange =
  | "acquired"
  | "re-entered"
  | "refused"
  | "renewal-failed"
  | "connection-lost"
  | "expired-locally"
  | "stopped";

/** A leader lock held in the store, contended for while started. */
export interface LeaderLockHandle {
  readonly isLeader: boolean;
  start(): void;
  /** Releases the lock if held (another process takes over at its next attempt). */
  stop(): Promise<void>;
}

/** Settings of a leader lock. */
export interface LeaderLockSettings {
  readonly ttlMs: number;
  readonly clock?: Clock;
  readonly logger?: Logger;
  readonly onChange?: (leading: boolean, reason: LeadershipChange) => void;
}

/** The data operations of a durable store. */
export interface DurableStore {
  /** How long a claim's lease lasts, in ms. */
  readonly leaseMs: number;

  /**
   * Stores a task; resolves once the store holds it. An idempotency key naming an existing task
   * with the same name and payload resolves with that task (`created: false`); with a different
   * one, rejects with `IdempotencyConflictError`.
   */
  enqueue(input: EnqueueInput): Promise<EnqueueResult>;
  /** Stores all tasks in one atomic step, or none; results in order. */
  enqueueMany(inputs: readonly EnqueueInput[]): Promise<EnqueueResult[]>;
  /**
   * Records `acks` (each fenced by its own token), then claims up to `max` ready tasks of
   * `queues` (highest priority first, FIFO within a priority) with fresh leases and tokens;
   * `max` 0 records the acks only.
   */
  step(
    acks: readonly AckRef[],
    queues: readonly string[],
    max: number,
    options?: StepOptions,
  ): Promise<StepResult>;
  /** Records a success. Resolves with the finish time. */
  ack(id: string, token: string, value?: unknown): Promise<number>;
  /** Schedules a retry (status `retrying`, due at `when`). Resolves with the due time. */
  nack(
    id: string,
    token: string,
    when: RetryAt,
    error: Error | ErrorInfo,
    queue?: string,
  ): Promise<number>;
  /** Fails the task for good, into the dead-letter queue. Resolves with the finish time. */
  fail(id: string, token: string, error: Error | ErrorInfo): Promise<number>;
  /** Stores the running attempt's progress (JSON data). */
  progress(id: string, token: string, value: unknown): Promise<void>;
  /**
   * Extends many leases to `leaseMs` (default: the store's) from now; per lease the new expiry
   * or its error (`StaleLeaseError` for a lost lease).
   */
  renewMany(leases: readonly LeaseRef[], leaseMs?: number): Promise<Array<number | Error>>;
  /** Cancels a task not yet ended; `NotFoundError` for an unknown id. */
  cancel(id: string): Promise<CancelResult>;
  /** Puts expired leases back in their queue (or into the DLQ past `maxDeliveries`). */
  reclaim(): Promise<ReclaimResult>;
  /** Evicts finished records and dead letters past their retention. */
  trim(): Promise<TrimResult>;

  get(id: string): Promise<StoredTask | undefined>;
  list(options?: ListOptions): Promise<StoredTaskPage>;
  /** Ready depth of every queue the store has seen. */
  queues(): Promise<QueueDepth[]>;
  counts(): Promise<StoreCounts>;
  readonly dlq: DeadLetterStore;

  // Store-wide totals (issue #18: the same stats in every process).
  /**
   * Outcomes since the store was created: each event appended to the feed counts its status
   * in the same atomic step (so a retried ack or a refused stale write counts nothing).
   */
  totals(): Promise<StoreTotals>;

  /** Whether `value` is a position of this store's events feed. */
  isFeedPosition(value: unknown): value is string;
  /** Up to `count` events after `after`, without blocking. */
  readFeed(after: string, count: number): Promise<TaskEvent[]>;
  /** A reader that may block, on a connection of its own. */
  createFeedReader(): EventReader;
  /** A waiter for new work, on a connection of its own. */
  createWaiter(): WorkWaiter;
  /** A leader lock named `name` (e.g. "cron"). */
  createLeaderLock(name: string, settings: LeaderLockSettings): LeaderLockHandle;
  /** The store's clock, epoch ms. */
  time(): Promise<number>;

  // --- Fleet operations (shared pause) ---------------------------------------------------
  /**
   * Pauses (`true`) or resumes (`false`) `queue` for every process sharing the store. A claim
   * (`step`) that runs after this resolved takes nothing from a paused queue, in the same
   * atomic step that would have leased it; resuming wakes the workers waiting on the queue.
   * Idempotent.
   */
  setPaused(queue: string, paused: boolean): Promise<void>;
  /** The queues paused in the store, sorted by name. */
  pausedQueues(): Promise<string[]>;

  // --- Fleet operations (worker registry) ---------------------------------------------------
  /**
   * Records a heartbeat of `worker` (its report, stamped with the store's time), replacing its
   * previous one, and drops every worker whose last heartbeat is older than `dropAfterMs`.
   * Resolves with the store's time.
   */
  heartbeat(worker: WorkerReport, dropAfterMs: number): Promise<number>;
  /** Removes a worker from the registry (a graceful stop); unknown ids are ignored. */
  removeWorker(id: string): Promise<void>;
  /**
   * Every registered worker (first dropping those whose last heartbeat is older than
   * `dropAfterMs`), sorted by id, with the store's time to judge them by.
   */
  listWorkers(
    dropAfterMs: number,
  ): Promise<{ readonly now: number; readonly workers: StoredWorker[] }>;

  // --- Fleet operations (shared schedules) ---------------------------------------------------
  /** Stores a schedule, replacing one with the same id (unpaused). */
  saveSchedule(schedule: StoredSchedule): Promise<void>;
  /** Removes a schedule; `false` if there was none. */
  deleteSchedule(id: string): Promise<boolean>;
  /** Pauses or resumes a schedule; `false` if there is none. */
  setSchedulePaused(id: string, paused: boolean): Promise<boolean>;
  /** Every stored schedule, sorted by id. */
  listSchedules(): Promise<StoredSchedule[]>;
  // --- The admin audit trail (audit/): a hash chain, sealed by audit/chain.ts, bounded. ---
  /**
   * Seals `entry` after the newest record (its hash as `prev`, the next `seq`, the store's
   * time) and appends it in ONE atomic step that reads the newest record too (a Lua script, a
   * serialising transaction), so concurrent appenders from many processes never fork the
   * chain; then drops the oldest past `maxRecords`, keeping the last dropped as the anchor.
   */
  appendAudit(entry: AuditEntry, maxRecords: number): Promise<AuditRecord>;
  /** Records as stored (unchanged, tampered ones too), with the chain's anchor and head. */
  listAudit(query: AuditQuery): Promise<AuditStorePage>;

  /**
   * Optional, for stores whose tasks live in the caller's database (Postgres): stores tasks
   * inside the caller's open transaction `tx`, all or nothing; they exist iff it commits.
   */
  enqueueIn?(tx: TransactionClient, inputs: readonly EnqueueInput[]): Promise<EnqueueResult[]>;
  /**
   * Optional, as `enqueueIn`: records the success of the attempt holding `token` inside `tx`
   * (it counts iff `tx` commits). `StaleLeaseError`, changing nothing, unless the token still
   * holds the lease. Resolves with the finish time.
   */
  completeIn?(tx: TransactionClient, id: string, token: string, value: unknown): Promise<number>;

  // Flows (optional: the engine refuses `submitFlow` with `UnsupportedError` without them).
  /**
   * Stores a flow's nodes atomically, all or none: nodes without dependencies ready (or
   * delayed), the others `waiting`. Every step that ends a node must, in the same atomic step,
   * record its outcome on its dependents and release them (`waiting` to `queued`) once their
   * last dependency ended, or end its "cancel" dependents `cancelled` when it did not succeed
   * (cascading), appending their events; a claimed node's `dependencies` carry the outcomes.
   */
  enqueueFlow?(flow: FlowInput): Promise<void>;
  /** The flow now (undefined once unknown or evicted by retention). */
  getFlow?(id: string): Promise<StoredFlow | undefined>;
}

/** What a store's client tells the engine about reaching the store, as it happens. */
export interface ConnectionListener {
  /** The client could not reach the store (refused, unresolvable, dropped). */
  failed(error: unknown): void;
  /** The client reached the store (again). */
  ready(): void;
}

/** A durable store with its connections, as the durable engine holds it. */
export interface StoreConnection {
  readonly store: DurableStore;
  /** Where the store is, for messages, without credentials (e.g. `redis://127.0.0.1:6379/0`). */
  readonly target?: string;
  /** The connection's state, for `health()`. */
  readonly status: "connected" | "connecting" | "reconnecting" | "closed";
  /** One round trip to the store; rejects while it cannot be reached. */
  ping(): Promise<void>;
  /** Whether `error` means the store could not be reached (the call may be retried). */
  isConnectionError(error: unknown): boolean;
  /** Closes the connection once pending commands are answered. */
  close(): Promise<void>;
  /** Drops the connection at once (the store never answered). */
  destroy(): void;
}
