/**
 * `SqliteStore`: the durable task store in one SQLite file. Every write is an operation of the
 * group commit (`committer.ts`): operations of one event-loop turn share one transaction and
 * one fsync, and a write resolves only once its transaction is on disk. Reads run directly.
 *
 * The store's clock is this machine's clock (`Date.now()`): every process sharing the file
 * runs on the same machine, so they read the same clock. Leases, due times and the rate bucket
 * are in that time; fencing tokens come from a counter row, never from the clock, so they
 * increase even if the clock steps back.
 */
import type { AuditEntry, AuditQuery, AuditRecord, AuditStorePage } from "../../audit/types.js";
import { InvalidArgumentError, NotFoundError } from "../../errors.js";
import type { ErrorInfo, ListOptions } from "../../types.js";
import { isName, requireInteger, requireNumber } from "../../validation.js";
import type { FlowInput, StoredFlow } from "../durable-flows.js";
import type {
  DurableStore,
  EventReader,
  LeaderLockHandle,
  LeaderLockSettings,
  WorkWaiter,
} from "../durable-store.js";
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
} from "../durable-types.js";
import type { StoredSchedule, StoredWorker, WorkerReport } from "../fleet-types.js";
import { encodeError, encodeJson } from "../json-codec.js";
import { appendAudit, listAudit } from "./audit.js";
import { complete, type EncodedAck, step } from "./claim.js";
import { nullable } from "./codec.js";
import { Committer, Sql } from "./committer.js";
import { SqliteDeadLetters } from "./dead-letter.js";
import { insertTask, insertTasks, prepareTask } from "./enqueue.js";
import * as fleet from "./fleet.js";
import { insertFlow, readFlow } from "./flows.js";
import { SqliteLeaderLock } from "./leader-lock.js";
import { reclaimBatch, trimBoth } from "./maintenance.js";
import {
  type ResolvedSqliteOptions,
  resolveSqliteOptions,
  type SqliteStoreOptions,
} from "./options.js";
import { cancel, fail, nack, progress, renew } from "./outcomes.js";
import { pausedQueues, setPaused } from "./pause.js";
import { countAll, getTask, listTasks, queueDepths } from "./queries.js";
import { refusalError, trimSet } from "./records.js";
import type { Database } from "./schema.js";
import { readTotals } from "./totals.js";
import { ChangeWatcher, readEvents, SqliteFeedReader, SqliteWaiter } from "./watcher.js";

/** Most reclaim batches one `reclaim()` call runs. */
const MAX_RECLAIM_ROUNDS = 20;

const CANCELLED = { name: "CancelledError", message: "cancel() was called", code: "ERR_CANCELLED" };

export class SqliteStore implements DurableStore {
  readonly options: ResolvedSqliteOptions;
  readonly sql: Sql;
  readonly committer: Committer;
  readonly dlq: SqliteDeadLetters;
  readonly #watcher: ChangeWatcher;

  /** @param db an open taskmill database (see `openDatabase`); closed by `close()`. */
  constructor(db: Database, options: SqliteStoreOptions = {}) {
    this.options = resolveSqliteOptions(options);
    this.sql = new Sql(db);
    this.#watcher = new ChangeWatcher(this.sql, this.options.pollMs);
    this.committer = new Committer(
      this.sql,
      this.options.path,
      this.options.eventsMaxLen,
      this.#watcher,
      Number(db.pragma("busy_timeout", { simple: true })),
    );
    this.dlq = new SqliteDeadLetters(this.sql, this.committer);
  }

  get leaseMs(): number {
    return this.options.leaseMs;
  }

  // --- The admin audit trail (audit.ts) ---
  appendAudit(entry: AuditEntry, maxRecords: number): Promise<AuditRecord> {
    return this.committer.run((tx) => appendAudit(tx, entry, maxRecords));
  }

  async listAudit(query: AuditQuery): Promise<AuditStorePage> {
    return listAudit(this.sql, query);
  }

  async enqueue(input: EnqueueInput): Promise<EnqueueResult> {
    const task = prepareTask(input);
    return this.committer.run((tx) => insertTask(tx, task));
  }

  // Flows (see flows.ts).
  /** Stores a flow in one transaction, all or nothing. */
  async enqueueFlow(flow: FlowInput): Promise<void> {
    await this.committer.run((tx) => insertFlow(tx, flow, this.options.retention.ttlMs));
  }

  /** The flow and its nodes' statuses, or undefined. */
  async getFlow(id: string): Promise<StoredFlow | undefined> {
    return readFlow({ sql: this.sql }, id);
  }

  async enqueueMany(inputs: readonly EnqueueInput[]): Promise<EnqueueResult[]> {
    if (!Array.isArray(inputs))
      throw new InvalidArgumentError("inputs", "must be an array of tasks", inputs);
    const tasks = inputs.map((input, i) => prepareTask(input, `inputs[${i}].`));
    if (tasks.length === 0) return [];
    return this.committer.run((tx) => insertTasks(tx, tasks));
  }

  async step(
    acks: readonly AckRef[],
    queues: readonly string[],
    max: number,
    _options?: StepOptions,
  ): Promise<StepResult> {
    if (!Array.isArray(queues) || queues.length === 0 || !queues.every(isName))
      throw new InvalidArgumentError("queues", "must be a non-empty array of queue names", queues);
    requireInteger("max", max, 0);
    const results: Array<number | Error> = new Array(acks.length);
    const encoded: EncodedAck[] = [];
    const slots: number[] = [];
    acks.forEach((ack, i) => {
      try {
        encoded.push({
          id: ack.id,
          token: ack.token,
          value: nullable(encodeJson("value", ack.value)),
        });
        slots.push(i);
      } catch (error) {
        results[i] = error as Error;
      }
    });
    const o = this.options;
    const { ackCodes, ...claim } = await this.committer.run((tx) =>
      step(tx, encoded, queues, {
        max,
        leaseMs: o.leaseMs,
        maxDeliveries: o.maxDeliveries,
        rate: o.globalRate,
        promoteBatch: o.promoteBatch,
        retention: o.retention,
        deadLetters: o.deadLetters,
        trimBudget: o.trimBudget,
      }),
    );
    ackCodes.forEach((code, j) => {
      const ack = encoded[j] as EncodedAck;
      results[slots[j] as number] = code > 0 ? code : refusalError(code, ack);
    });
    return { ...claim, acks: results };
  }

  async ack(id: string, token: string, value?: unknown): Promise<number> {
    const ack = { id, token, value: nullable(encodeJson("value", value)) };
    const code = await this.committer.run((tx) => {
      const result = complete(tx, ack);
      if (result === tx.now) trimSet(tx, "done", this.options.retention, this.options.trimBudget);
      return result;
    });
    return positive(code, id, token);
  }

  async nack(
    id: string,
    token: string,
    when: RetryAt,
    error: Error | ErrorInfo,
    _queue?: string,
  ): Promise<number> {
    const delayMs = "delayMs" in when ? when.delayMs : undefined;
    const runAt = "runAt" in when ? when.runAt : undefined;
    if (delayMs !== undefined) requireNumber("delayMs", delayMs, 0);
    if (runAt !== undefined) requireNumber("runAt", runAt, 0);
    const errorJson = encodeError(error);
    const code = await this.committer.run((tx) =>
      nack(
        tx,
        id,
        token,
        {
          ...(delayMs === undefined ? {} : { delayMs }),
          ...(runAt === undefined ? {} : { runAt }),
        },
        errorJson,
      ),
    );
    return positive(code, id, token);
  }

  async fail(id: string, token: string, error: Error | ErrorInfo): Promise<number> {
    const errorJson = encodeError(error);
    const code = await this.committer.run((tx) =>
      fail(tx, id, token, errorJson, this.options.deadLetters, this.options.trimBudget),
    );
    return positive(code, id, token);
  }

  async progress(id: string, token: string, value: unknown): Promise<void> {
    const json = nullable(encodeJson("progress", value));
    positive(await this.committer.run((tx) => progress(tx, id, token, json)), id, token);
  }

  async renewMany(
    leases: readonly LeaseRef[],
    leaseMs: number = this.options.leaseMs,
  ): Promise<Array<number | Error>> {
    requireInteger("leaseMs", leaseMs, 1);
    if (leases.length === 0) return [];
    const codes = await this.committer.run((tx) =>
      leases.map(({ id, token }) => renew(tx, id, token, leaseMs)),
    );
    return codes.map((code, i) => {
      const { id, token } = leases[i] as LeaseRef;
      return code > 0 ? code : refusalError(code, { id, token });
    });
  }

  async cancel(id: string, error?: Error | ErrorInfo): Promise<CancelResult> {
    if (typeof id !== "string" || id.length === 0) throw new NotFoundError("task", String(id));
    const reason = encodeError(error ?? CANCELLED);
    const code = await this.committer.run((tx) =>
      cancel(tx, id, reason, this.options.retention, this.options.trimBudget),
    );
    return { cancelled: code > 0, wasRunning: code === 2 };
  }

  async reclaim(): Promise<ReclaimResult> {
    let reclaimed = 0;
    let poisoned = 0;
    let nextExpiryInMs: number | undefined;
    const settings = {
      maxDeliveries: this.options.maxDeliveries,
      batch: this.options.reclaimBatch,
      deadLetters: this.options.deadLetters,
      trimBudget: this.options.trimBudget,
    };
    for (let round = 0; round < MAX_RECLAIM_ROUNDS; round++) {
      const batch = await this.committer.run((tx) => reclaimBatch(tx, settings));
      reclaimed += batch.reclaimed;
      poisoned += batch.poisoned;
      nextExpiryInMs = batch.nextExpiry >= 0 ? batch.nextExpiry : undefined;
      if (!batch.more) break;
    }
    return { reclaimed, poisoned, nextExpiryInMs };
  }

  async trim(): Promise<TrimResult> {
    const { retention, deadLetters, trimBudget } = this.options;
    return this.committer.run((tx) => trimBoth(tx, retention, deadLetters, trimBudget));
  }

  async get(id: string): Promise<StoredTask | undefined> {
    return getTask(this.sql, id);
  }

  async list(options: ListOptions = {}): Promise<StoredTaskPage> {
    return listTasks(this.sql, options);
  }

  async queues(): Promise<QueueDepth[]> {
    return queueDepths(this.sql);
  }

  async counts(): Promise<StoreCounts> {
    return countAll(this.sql);
  }

  async totals(): Promise<StoreTotals> {
    return readTotals(this.sql);
  }

  /** Positions of the events feed: the events' row ids, as decimal text. */
  isFeedPosition(value: unknown): value is string {
    return typeof value === "string" && /^\d{1,20}$/.test(value);
  }

  async readFeed(after: string, count: number): Promise<TaskEvent[]> {
    return readEvents(this.sql, after, count);
  }

  createFeedReader(): EventReader {
    return new SqliteFeedReader(this.sql, this.#watcher);
  }

  createWaiter(): WorkWaiter {
    return new SqliteWaiter(this.#watcher);
  }

  createLeaderLock(name: string, settings: LeaderLockSettings): LeaderLockHandle {
    return new SqliteLeaderLock(this.committer, name, settings);
  }

  /** This machine's clock, shared by every process on the file (see the module comment). */
  async time(): Promise<number> {
    return Date.now();
  }

  // --- Fleet operations (shared pause) ---------------------------------------------------

  /** @see DurableStore.setPaused */
  async setPaused(queue: string, paused: boolean): Promise<void> {
    if (!isName(queue)) throw new InvalidArgumentError("queue", "must be a queue name", queue);
    if (typeof paused !== "boolean")
      throw new InvalidArgumentError("paused", "must be a boolean", paused);
    await this.committer.run((tx) => setPaused(tx, queue, paused));
  }

  /** @see DurableStore.pausedQueues */
  async pausedQueues(): Promise<string[]> {
    return pausedQueues(this.sql);
  }

  // --- Fleet operations (worker registry, shared schedules; see fleet.ts) -----------------

  heartbeat(worker: WorkerReport, dropAfterMs: number): Promise<number> {
    return fleet.heartbeat(this.committer, worker, dropAfterMs);
  }

  removeWorker(id: string): Promise<void> {
    return fleet.removeWorker(this.committer, id);
  }

  listWorkers(dropAfterMs: number): Promise<{ now: number; workers: StoredWorker[] }> {
    return fleet.listWorkers(this.committer, dropAfterMs);
  }

  saveSchedule(schedule: StoredSchedule): Promise<void> {
    return fleet.saveSchedule(this.committer, schedule);
  }

  deleteSchedule(id: string): Promise<boolean> {
    return fleet.deleteSchedule(this.committer, id);
  }

  setSchedulePaused(id: string, paused: boolean): Promise<boolean> {
    return fleet.setSchedulePaused(this.committer, id, paused);
  }

  listSchedules(): Promise<StoredSchedule[]> {
    return fleet.listSchedules(this.sql);
  }

  /** Commits what is queued, stops the waiters and closes the database. */
  close(): void {
    this.committer.close();
    this.#watcher.close();
    if (this.sql.db.open) this.sql.db.close();
  }
}

/** A write's positive result, or the typed error of its refusal code. */
function positive(code: number, id: string, token: string): number {
  if (code < 0) throw refusalError(code, { id, token });
  return code;
}
