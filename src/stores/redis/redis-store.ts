/**
 * `RedisStore`: the durable task store, a thin typed layer over the Lua scripts in `lua/`.
 * Every state change is one script (atomic, Cluster-safe under one hash tag, timed by the
 * Redis clock); this class validates input, encodes arguments, decodes replies and maps
 * refusal codes to typed errors (in `errors.ts`).
 *
 * The engine drives it: `enqueue` from submit; a worker loop `claim`s up to its free slots,
 * blocks on a {@link WorkWaiter} when nothing is ready, keeps leases alive with a
 * `LeaseKeeper`, and settles each attempt with `ack`, `nack` or `fail`; a `Reaper` in every
 * worker process reclaims expired leases and applies retention.
 */

import type { AuditEntry, AuditQuery, AuditRecord, AuditStorePage } from "../../audit/types.js";
import { InvalidOptionError } from "../../errors.js";
import { isStreamId } from "../../results/stream-id.js";
import type { ErrorInfo, ListOptions } from "../../types.js";
import type { FlowInput, StoredFlow } from "../durable-flows.js";
import type { DurableStore, EventReader, LeaderLockSettings } from "../durable-store.js";
import type {
  AckRef,
  CancelResult,
  ClaimResult,
  EnqueueInput,
  EnqueueResult,
  LeaseRef,
  QueueDepth,
  ReclaimResult,
  RetryAt,
  StepResult,
  StoreCounts,
  StoredTask,
  StoredTaskPage,
  StoreTotals,
  TaskEvent,
  TrimResult,
} from "../durable-types.js";
import type { StoredSchedule, StoredWorker, WorkerReport } from "../fleet-types.js";
import { totalsFromCounts } from "../totals.js";
import { RedisAudit } from "./audit.js";
import { type ClaimOptions, claim as runClaim, step as runStep, type StepInput } from "./claim.js";
import { keyPrefixOf, nodeServing, type RedisClient } from "./client.js";
import { RedisDeadLetters } from "./dead-letter.js";
import { enqueue, enqueueMany } from "./enqueue.js";
import { readEvents } from "./events.js";
import { RedisFeedReader } from "./feed-reader.js";
import * as fleet from "./fleet.js";
import { enqueueFlow, readFlow } from "./flows.js";
import * as housekeeping from "./housekeeping.js";
import { KeySpace } from "./keys.js";
import { LeaderLock } from "./leader-lock.js";
import * as lease from "./lease-outcomes.js";
import {
  type RedisStoreOptions,
  type ResolvedStoreOptions,
  resolveStoreOptions,
} from "./options.js";
import { pausedQueues, setPaused } from "./pause.js";
import { countAll, getTask, listTasks, queueDepths } from "./queries.js";
import { registerScripts } from "./scripts.js";
import { WorkWaiter } from "./waiter.js";

/** The durable task store on one Redis prefix. */
export class RedisStore implements DurableStore {
  readonly redis: RedisClient;
  readonly keys: KeySpace;
  readonly options: ResolvedStoreOptions;
  /** The dead-letter queue. */
  readonly dlq: RedisDeadLetters;

  /**
   * @param redis a connected (or connecting) ioredis client without `keyPrefix`; the store
   *   registers its scripts on it but does not own it (the caller quits it).
   */
  constructor(redis: RedisClient, options: RedisStoreOptions = {}) {
    const keyPrefix = keyPrefixOf(redis);
    if (keyPrefix)
      throw new InvalidOptionError(
        "backend.redis",
        "must not use ioredis keyPrefix (use the prefix option)",
        keyPrefix,
      );
    this.redis = redis;
    this.options = resolveStoreOptions(options);
    this.keys = new KeySpace(this.options.prefix);
    registerScripts(redis);
    this.dlq = new RedisDeadLetters(redis, this.keys, this.options);
    this.#audit = new RedisAudit(redis, this.keys);
  }

  // --- The admin audit trail (audit.ts) ---
  readonly #audit: RedisAudit;

  appendAudit(entry: AuditEntry, maxRecords: number): Promise<AuditRecord> {
    return this.#audit.append(entry, maxRecords);
  }

  listAudit(query: AuditQuery): Promise<AuditStorePage> {
    return this.#audit.list(query);
  }

  /**
   * Stores a task; resolves once Redis holds it. With an idempotency key (or an explicit id)
   * that names an existing task with the same name and payload, resolves with that task
   * (`created: false`); with a different name or payload, rejects with
   * `IdempotencyConflictError` (or `InvalidArgumentError` for a reused id).
   */
  enqueue(input: EnqueueInput): Promise<EnqueueResult> {
    return enqueue(this, input);
  }

  /**
   * Stores several tasks atomically, all or nothing, in one script call; resolves with one
   * result per input, in order, each what {@link RedisStore.enqueue} would have resolved with
   * had the tasks been enqueued one after the other. An input whose idempotency key (or
   * explicit id) names an existing task with the same name and payload gets that task
   * (`created: false`), and so does a later input repeating the key (or id) of an earlier one
   * of the same call. If any input would be refused (`IdempotencyConflictError` for a key held
   * by a task with another name or payload, in Redis or earlier in the call;
   * `InvalidArgumentError` for such a reused id), the whole call rejects with that error and
   * nothing is written. Every input is validated before anything is sent: one invalid input
   * (its argument named `inputs[i].<name>`) rejects the call without a round trip.
   *
   * One call runs as one script in Redis, which serves nothing else meanwhile: split very
   * large batches (a thousand tasks per call is a good size) where atomicity across them is
   * not needed.
   */
  enqueueMany(inputs: readonly EnqueueInput[]): Promise<EnqueueResult[]> {
    return enqueueMany(this, inputs);
  }

  // Flows (see flows.ts and lua/includes/flow.lua).
  /** Stores a flow in one script call, all or nothing; its hash is kept `retention.ttlMs` once it ended. */
  enqueueFlow(flow: FlowInput): Promise<void> {
    return enqueueFlow(this.redis, this.keys, flow, this.options.retention.ttlMs);
  }

  /** The flow and its nodes' statuses, or undefined once unknown or expired. */
  getFlow(id: string): Promise<StoredFlow | undefined> {
    return readFlow(this.redis, this.keys, id);
  }

  /**
   * In one script: promotes due delayed tasks, then leases up to `max` ready tasks of
   * `queues` (highest priority first across them, FIFO within a priority), each with a fresh
   * fencing token, within the global rate bucket. Tasks delivered `maxDeliveries` times
   * without an outcome go to the dead-letter queue instead. Never blocks; see
   * {@link RedisStore.createWaiter} for waiting.
   */
  claim(
    queues: readonly string[],
    max: number,
    leaseMs: number = this.options.leaseMs,
    options: ClaimOptions = {},
  ): Promise<ClaimResult> {
    return runClaim(this, queues, max, leaseMs, options);
  }

  /**
   * A worker's round trip: acks `acks` (each fenced by its own token: a stale one is refused,
   * the others are acked), then claims up to `max` tasks as {@link RedisStore.claim} (`max` 0:
   * acks only), all in one script call. With a `requestId`, the leases it returns are kept in
   * a receipt until they expire: if the reply is lost and the client resends the call, the
   * replay returns the same leases; a later call naming it in `unanswered` gets them too
   * (counted toward its `max`). Neither counts a delivery again.
   */
  step(
    acks: readonly AckRef[],
    queues: readonly string[],
    max: number,
    step: Omit<StepInput, "acks"> = {},
    leaseMs: number = this.options.leaseMs,
    options: ClaimOptions = {},
  ): Promise<StepResult> {
    return runStep(this, acks, queues, max, step, leaseMs, options);
  }

  /**
   * Completes a task with its result (JSON data, or `undefined`). Resolves with the finish
   * time. Rejects with `StaleLeaseError`, changing nothing, unless `token` still holds the
   * lease (the task was reclaimed and claimed again, cancelled, or already finished).
   */
  ack(id: string, token: string, value?: unknown): Promise<number> {
    return lease.ack(this, id, token, value);
  }

  /**
   * Schedules a retry: the task waits in the delayed set until `when` (Redis time) with
   * `error` as its last error. Resolves with the due time. Rejects with `StaleLeaseError`,
   * changing nothing, unless `token` still holds the lease.
   */
  nack(
    id: string,
    token: string,
    when: RetryAt,
    error: Error | ErrorInfo,
    queue?: string,
  ): Promise<number> {
    return lease.nack(this, id, token, when, error, queue);
  }

  /**
   * Fails a task for good: status failed, into the dead-letter queue with `error`. Resolves
   * with the finish time. Rejects with `StaleLeaseError`, changing nothing, unless `token`
   * still holds the lease.
   */
  fail(id: string, token: string, error: Error | ErrorInfo): Promise<number> {
    return lease.fail(this, id, token, error);
  }

  /**
   * Extends a lease to `leaseMs` from now (Redis time). Resolves with the new expiry.
   * Rejects with `StaleLeaseError` when the lease is lost: stop the handler.
   */
  renew(id: string, token: string, leaseMs: number = this.options.leaseMs): Promise<number> {
    return lease.renew(this, id, token, leaseMs);
  }

  /**
   * Renews many leases in one round trip. Each entry is the new expiry, or the error that
   * `renew` would have rejected with (`StaleLeaseError` for a lost lease).
   */
  renewMany(
    leases: readonly LeaseRef[],
    leaseMs: number = this.options.leaseMs,
  ): Promise<Array<number | Error>> {
    return lease.renewMany(this, leases, leaseMs);
  }

  /**
   * Stores a running task's progress (JSON data; `undefined` clears it) for `get` to show
   * from any process. Fenced like {@link RedisStore.ack}: rejects with `StaleLeaseError`,
   * changing nothing, unless `token` still holds the lease. The last value stays after the
   * task ends, and across a retry until the next attempt reports its own.
   */
  progress(id: string, token: string, value: unknown): Promise<void> {
    return lease.progress(this, id, token, value);
  }

  /**
   * Puts tasks whose lease expired back into their ready queue (deliveries counted), or into
   * the dead-letter queue once delivered `maxDeliveries` times. Handles up to
   * `reclaimBatch * 20` leases per call.
   */
  reclaim(): Promise<ReclaimResult> {
    return housekeeping.reclaim(this);
  }

  /**
   * Cancels a task. A waiting task leaves its queue at once; a running one is marked
   * cancelled and its worker's ack, nack, fail and renew are refused from then on (the
   * "cancelled" event tells subscribers). A finished task is left alone (`cancelled: false`).
   * Rejects with `NotFoundError` for an unknown id.
   */
  cancel(id: string, error?: Error | ErrorInfo): Promise<CancelResult> {
    return housekeeping.cancel(this, id, error);
  }

  /** Evicts finished records and dead letters past their bounds (age or count). */
  trim(): Promise<TrimResult> {
    return housekeeping.trim(this);
  }

  /** The task with its payload, or `undefined` (never existed, purged or evicted). */
  get(id: string): Promise<StoredTask | undefined> {
    return getTask(this.redis, this.keys, id);
  }

  /** A page of tasks (without payloads) matching the filters; see `queries.ts` for order. */
  list(options: ListOptions = {}): Promise<StoredTaskPage> {
    return listTasks(this.redis, this.keys, options);
  }

  /** Ready depth of every queue ever used on this prefix, by name. */
  queues(): Promise<QueueDepth[]> {
    return queueDepths(this.redis, this.keys);
  }

  /** Delayed, running, dead-letter and finished counts over all queues. */
  counts(): Promise<StoreCounts> {
    return countAll(this.redis, this.keys);
  }

  async totals(): Promise<StoreTotals> {
    const counts = await this.redis.hgetall(this.keys.totals);
    return totalsFromCounts((status) => Number(counts[status] ?? 0));
  }

  /**
   * Events after stream id `after` (`"0"` for the oldest kept, `"$"` for only new ones when
   * blocking). Pass `blockMs` only on a dedicated connection (`connection`), never the
   * store's own: a blocked client cannot serve other commands.
   */
  readEvents(
    after: string,
    options: {
      readonly count?: number;
      readonly blockMs?: number;
      readonly connection?: RedisClient;
    } = {},
  ): Promise<TaskEvent[]> {
    return readEvents(options.connection ?? this.redis, this.keys.events, after, options);
  }

  /**
   * The Redis server's clock, in epoch ms: the clock every script uses (on a cluster, that of
   * the node serving the store's slot; TIME has no key the cluster could route by).
   */
  async time(): Promise<number> {
    const [seconds, micros] = await (nodeServing(this.redis, this.keys.seq) ?? this.redis).time();
    return Number(seconds) * 1000 + Math.floor(Number(micros) / 1000);
  }

  /**
   * A blocking waiter for new work on its own connection (`redis.duplicate()`); close it
   * when done. One per worker loop.
   */
  createWaiter(): WorkWaiter {
    return new WorkWaiter(this.redis.duplicate(), this.redis, this.keys);
  }

  // The rest of the durable-store port (stores/durable-store.ts).

  /** How long a claim's lease lasts, in ms. */
  get leaseMs(): number {
    return this.options.leaseMs;
  }

  /** Positions of the events stream as Redis writes them ("ms-seq"), or the "ms" shorthand. */
  isFeedPosition(value: unknown): value is string {
    return isStreamId(value);
  }

  /** Up to `count` events after stream id `after`, without blocking. */
  readFeed(after: string, count: number): Promise<TaskEvent[]> {
    return readEvents(this.redis, this.keys.events, after, { count });
  }

  /** A blocking reader of the events stream on its own connection (`redis.duplicate()`). */
  createFeedReader(): EventReader {
    return new RedisFeedReader(this.redis.duplicate(), this.keys.events);
  }

  /** The leader lock `{prefix}:leader:<name>`. */
  createLeaderLock(name: string, settings: LeaderLockSettings): LeaderLock {
    return new LeaderLock(this.redis, this.keys.leader(name), settings);
  }

  // --- Fleet operations (shared pause) ---------------------------------------------------

  /** @see DurableStore.setPaused */
  setPaused(queue: string, paused: boolean): Promise<void> {
    return setPaused(this.redis, this.keys, queue, paused);
  }

  /** @see DurableStore.pausedQueues */
  pausedQueues(): Promise<string[]> {
    return pausedQueues(this.redis, this.keys);
  }

  // --- Fleet operations (worker registry, shared schedules; see fleet.ts) -----------------

  heartbeat(worker: WorkerReport, dropAfterMs: number): Promise<number> {
    return fleet.heartbeat(this.redis, this.keys, worker, dropAfterMs);
  }

  removeWorker(id: string): Promise<void> {
    return fleet.removeWorker(this.redis, this.keys, id);
  }

  listWorkers(dropAfterMs: number): Promise<{ now: number; workers: StoredWorker[] }> {
    return fleet.listWorkers(this.redis, this.keys, dropAfterMs);
  }

  saveSchedule(schedule: StoredSchedule): Promise<void> {
    return fleet.saveSchedule(this.redis, this.keys, schedule);
  }

  deleteSchedule(id: string): Promise<boolean> {
    return fleet.deleteSchedule(this.redis, this.keys, id);
  }

  setSchedulePaused(id: string, paused: boolean): Promise<boolean> {
    return fleet.setSchedulePaused(this.redis, this.keys, id, paused);
  }

  listSchedules(): Promise<StoredSchedule[]> {
    return fleet.listSchedules(this.redis, this.keys);
  }
}

export type { ClaimOptions, StepInput };
