/**
 * `PostgresStore`: the durable task store in one PostgreSQL schema, a thin typed layer over
 * the functions of `sql/functions-v1.ts` (one call per state change: one round trip, atomic,
 * timed by the database clock, its event and NOTIFY in the same transaction). This class
 * validates input (with the Redis store's rules, shared), encodes arguments, decodes replies
 * and maps refusal codes to typed errors.
 *
 * Besides the port it has what only a database has: `enqueueIn(tx, ...)` and
 * `completeIn(tx, ...)` run in the caller's open transaction (see docs/postgres-mode.md).
 */
import type { AuditEntry, AuditQuery, AuditRecord, AuditStorePage } from "../../audit/types.js";
import { InvalidArgumentError, NotFoundError, StaleLeaseError } from "../../errors.js";
import type { ErrorInfo, ListOptions, TransactionClient } from "../../types.js";
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
import { encodeTask } from "../redis/enqueue.js";
import { scriptError } from "../redis/errors.js";
import { totalsFromCounts } from "../totals.js";
import { appendAudit, listAudit } from "./audit.js";
import { asQuery, encodeAll, enqueueTasks, runStep } from "./calls.js";
import { UnexpectedRowError } from "./codec.js";
import { positive, tokenDigits } from "./codes.js";
import { PostgresDeadLetters } from "./dead-letters.js";
import { isFeedPosition, PostgresFeedReader, readFeed } from "./feed.js";
import * as fleet from "./fleet.js";
import { enqueueFlow, readFlow } from "./flows.js";
import { PostgresLeaderLock } from "./leader-lock.js";
import { ChannelListener, type OpenDedicated } from "./listener.js";
import type { PostgresStoreSettings } from "./options.js";
import { pausedQueues, setPaused } from "./pause.js";
import { countAll, getTask, listTasks, type Query, queueDepths } from "./queries.js";
import { type SchemaNames, schemaNames } from "./sql/names.js";
import { readTotalsSql } from "./sql/totals-v5.js";
import { PostgresWorkWaiter } from "./waiter.js";

/** Most reclaim batches one `reclaim()` call runs before returning. */
const MAX_RECLAIM_ROUNDS = 20;
/** Most trim batches one `trim()` call runs (each `trimBudget` rows per state). */
const MAX_TRIM_ROUNDS = 10;

const CANCELLED = encodeError({
  name: "CancelledError",
  message: "cancel() was called",
  code: "ERR_CANCELLED",
});

export class PostgresStore implements DurableStore {
  readonly names: SchemaNames;
  readonly settings: PostgresStoreSettings;
  readonly dlq: PostgresDeadLetters;
  readonly #query: Query;
  readonly #openDedicated: OpenDedicated;

  /**
   * @param query runs one statement on the store's pool
   * @param openDedicated opens a connection of its own (LISTEN for the waiter and the feed)
   */
  constructor(query: Query, openDedicated: OpenDedicated, settings: PostgresStoreSettings) {
    this.#query = query;
    this.#openDedicated = openDedicated;
    this.settings = settings;
    this.names = schemaNames(settings.schema);
    this.dlq = new PostgresDeadLetters(query, this.names, settings);
  }

  get leaseMs(): number {
    return this.settings.leaseMs;
  }

  async enqueue(input: EnqueueInput): Promise<EnqueueResult> {
    const tasks = [encodeTask(input)];
    return (await enqueueTasks(this.#query, this.names, tasks, "enqueue"))[0] as EnqueueResult;
  }

  // Flows (see flows.ts and sql/flows-v4.ts).
  /** Stores a flow in one function call, all or nothing. */
  enqueueFlow(flow: FlowInput): Promise<void> {
    return enqueueFlow(this.#query, this.names, flow, this.settings.retention.ttlMs);
  }

  /** The flow and its nodes' statuses, or undefined. */
  getFlow(id: string): Promise<StoredFlow | undefined> {
    return readFlow(this.#query, this.names, id);
  }

  enqueueMany(inputs: readonly EnqueueInput[]): Promise<EnqueueResult[]> {
    return enqueueTasks(this.#query, this.names, encodeAll(inputs), "enqueueMany");
  }

  /**
   * Stores tasks in the caller's open transaction `tx`: they exist if and only if it commits
   * (workers are woken at its commit). An idempotency conflict raises in `tx`, which then
   * must roll back, like any failed statement.
   */
  enqueueIn(tx: TransactionClient, inputs: readonly EnqueueInput[]): Promise<EnqueueResult[]> {
    return enqueueTasks(asQuery(tx), this.names, encodeAll(inputs), "enqueueMany");
  }

  async step(
    acks: readonly AckRef[],
    queues: readonly string[],
    max: number,
    options: StepOptions = {},
  ): Promise<StepResult> {
    if (!Array.isArray(queues) || (max > 0 && queues.length === 0) || !queues.every(isName))
      throw new InvalidArgumentError("queues", "must be a non-empty array of queue names", queues);
    requireInteger("max", max, 0);
    return runStep(this.#query, this.names, this.settings, acks, queues, max, options);
  }

  ack(id: string, token: string, value?: unknown): Promise<number> {
    return this.#ackOn(this.#query, id, token, value);
  }

  /**
   * Records the success of the attempt holding `token` in the caller's open transaction `tx`,
   * with its event: it counts if and only if `tx` commits. Rejects with `StaleLeaseError`,
   * changing nothing, unless the token still holds the lease; the caller then rolls `tx` back.
   * The task's row stays locked by `tx` until it ends (claims and reclaims skip it).
   */
  async completeIn(
    tx: TransactionClient,
    id: string,
    token: string,
    value: unknown,
  ): Promise<number> {
    return await this.#ackOn(asQuery(tx), id, token, value);
  }

  /** One ack through `query` (the pool, or the caller's transaction): a step with no claim. */
  async #ackOn(query: Query, id: string, token: string, value: unknown): Promise<number> {
    const result = await runStep(
      query,
      this.names,
      this.settings,
      [{ id, token, value }],
      [],
      0,
      {},
    );
    const outcome = result.acks[0];
    if (outcome instanceof Error) throw outcome;
    return outcome as number;
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
    const digits = tokenDigits(token);
    if (digits === undefined) throw new StaleLeaseError(id, String(token), "superseded");
    const { rows } = await this.#query(`SELECT ${this.names.s}.nack($1, $2, $3, $4, $5) AS r`, [
      id,
      digits,
      delayMs === undefined ? null : Math.ceil(delayMs),
      runAt === undefined ? null : Math.ceil(runAt),
      encodeError(error),
    ]);
    return positive(rows[0]?.r, { script: "nack", id, token });
  }

  async fail(id: string, token: string, error: Error | ErrorInfo): Promise<number> {
    const digits = tokenDigits(token);
    if (digits === undefined) throw new StaleLeaseError(id, String(token), "superseded");
    const { rows } = await this.#query(`SELECT ${this.names.s}.fail($1, $2, $3) AS r`, [
      id,
      digits,
      encodeError(error),
    ]);
    return positive(rows[0]?.r, { script: "fail", id, token });
  }

  async progress(id: string, token: string, value: unknown): Promise<void> {
    const encoded = encodeJson("progress", value);
    const digits = tokenDigits(token);
    if (digits === undefined) throw new StaleLeaseError(id, String(token), "superseded");
    const s = this.names.s;
    const { rows } = await this.#query(
      `WITH u AS (UPDATE ${s}.tasks SET progress = $3 WHERE id = $1 AND token = $2
         AND status = 'running' RETURNING 1)
       SELECT (SELECT count(*) FROM u) AS n,
         (SELECT ${s}.refusal(status, token, NULL, $2, NULL) FROM ${s}.tasks WHERE id = $1) AS code`,
      [id, digits, encoded === "" ? null : encoded],
    );
    if (Number(rows[0]?.n) === 1) return;
    throw scriptError(Number(rows[0]?.code ?? -1), { script: "progress", id, token });
  }

  async renewMany(
    leases: readonly LeaseRef[],
    leaseMs: number = this.settings.leaseMs,
  ): Promise<Array<number | Error>> {
    requireInteger("leaseMs", leaseMs, 1);
    if (leases.length === 0) return [];
    const { rows } = await this.#query(
      `SELECT ${this.names.s}.renew_many($1, $2, $3) AS r`,
      [
        leases.map((lease) => lease.id),
        leases.map((lease) => tokenDigits(lease.token) ?? "0"),
        leaseMs,
      ],
      `${this.names.schema}_renew`,
    );
    const codes = rows[0]?.r;
    if (!Array.isArray(codes) || codes.length !== leases.length)
      throw new UnexpectedRowError("renew", codes);
    return leases.map(({ id, token }, i) => {
      try {
        return positive(codes[i], { script: "renew", id, token });
      } catch (refusal) {
        return refusal as Error;
      }
    });
  }

  async cancel(id: string, error?: Error | ErrorInfo): Promise<CancelResult> {
    const { rows } = await this.#query(`SELECT ${this.names.s}.cancel($1, $2) AS r`, [
      id,
      error === undefined ? CANCELLED : encodeError(error),
    ]);
    const code = Number(rows[0]?.r);
    if (code === -1) throw new NotFoundError("task", id);
    return { cancelled: code > 0, wasRunning: code === 2 };
  }

  async reclaim(): Promise<ReclaimResult> {
    let reclaimed = 0;
    let poisoned = 0;
    let nextExpiryInMs: number | undefined;
    for (let round = 0; round < MAX_RECLAIM_ROUNDS; round++) {
      const { rows } = await this.#query(`SELECT ${this.names.s}.reclaim($1, $2) AS r`, [
        this.settings.maxDeliveries,
        this.settings.reclaimBatch,
      ]);
      const r = rows[0]?.r as
        | { reclaimed: number; poisoned: number; more: boolean; nextExpiryInMs: number | null }
        | undefined;
      if (r === undefined) throw new UnexpectedRowError("reclaim", rows);
      reclaimed += r.reclaimed;
      poisoned += r.poisoned;
      nextExpiryInMs = r.nextExpiryInMs ?? undefined;
      if (!r.more) break;
    }
    return { reclaimed, poisoned, nextExpiryInMs };
  }

  async trim(): Promise<TrimResult> {
    const { retention, deadLetters: dead, trimBudget, eventsMaxLen } = this.settings;
    const budget = Math.max(trimBudget, 1_000);
    let finished = 0;
    let deadLetters = 0;
    for (let round = 0; round < MAX_TRIM_ROUNDS; round++) {
      const { rows } = await this.#query(
        `SELECT ${this.names.s}.trim($1, $2, $3, $4, $5, $6) AS r`,
        [retention.ttlMs, retention.maxEntries, dead.ttlMs, dead.maxEntries, budget, eventsMaxLen],
      );
      const [f, d] = (rows[0]?.r as number[] | undefined) ?? [0, 0];
      finished += f ?? 0;
      deadLetters += d ?? 0;
      if ((f ?? 0) < budget && (d ?? 0) < budget) break;
    }
    return { finished, deadLetters };
  }

  get(id: string): Promise<StoredTask | undefined> {
    return getTask(this.#query, this.names, id);
  }

  list(options: ListOptions = {}): Promise<StoredTaskPage> {
    return listTasks(this.#query, this.names, options);
  }

  queues(): Promise<QueueDepth[]> {
    return queueDepths(this.#query, this.names);
  }

  counts(): Promise<StoreCounts> {
    return countAll(this.#query, this.names);
  }

  async totals(): Promise<StoreTotals> {
    const { rows } = await this.#query(readTotalsSql(this.names));
    const counts = new Map(rows.map((row) => [String(row.status), Number(row.n)]));
    return totalsFromCounts((status) => counts.get(status) ?? 0);
  }

  isFeedPosition(value: unknown): value is string {
    return isFeedPosition(value);
  }

  readFeed(after: string, count: number): Promise<TaskEvent[]> {
    return readFeed(this.#query, this.names, after, count);
  }

  createFeedReader(): EventReader {
    return new PostgresFeedReader(
      new ChannelListener(this.#openDedicated, this.names.eventsChannel),
      this.names,
    );
  }

  createWaiter(): WorkWaiter {
    return new PostgresWorkWaiter(new ChannelListener(this.#openDedicated, this.names.workChannel));
  }

  createLeaderLock(name: string, settings: LeaderLockSettings): LeaderLockHandle {
    return new PostgresLeaderLock(this.#query, this.names, name, settings);
  }

  // --- The admin audit trail (audit.ts, migration 3) ---
  appendAudit(entry: AuditEntry, maxRecords: number): Promise<AuditRecord> {
    return appendAudit(this.#query, this.names, entry, maxRecords);
  }

  listAudit(query: AuditQuery): Promise<AuditStorePage> {
    return listAudit(this.#query, this.names, query);
  }

  async time(): Promise<number> {
    const { rows } = await this.#query(`SELECT ${this.names.s}.now_ms() AS t`);
    return Number(rows[0]?.t);
  }

  // --- Fleet operations (shared pause) ---------------------------------------------------

  /** @see DurableStore.setPaused */
  setPaused(queue: string, paused: boolean): Promise<void> {
    return setPaused(this.#query, this.names, queue, paused);
  }

  /** @see DurableStore.pausedQueues */
  pausedQueues(): Promise<string[]> {
    return pausedQueues(this.#query, this.names);
  }

  // --- Fleet operations (worker registry, shared schedules; see fleet.ts) -----------------

  heartbeat(worker: WorkerReport, dropAfterMs: number): Promise<number> {
    return fleet.heartbeat(this.#query, this.names, worker, dropAfterMs);
  }

  removeWorker(id: string): Promise<void> {
    return fleet.removeWorker(this.#query, this.names, id);
  }

  listWorkers(dropAfterMs: number): Promise<{ now: number; workers: StoredWorker[] }> {
    return fleet.listWorkers(this.#query, this.names, dropAfterMs);
  }

  saveSchedule(schedule: StoredSchedule): Promise<void> {
    return fleet.saveSchedule(this.#query, this.names, schedule);
  }

  deleteSchedule(id: string): Promise<boolean> {
    return fleet.deleteSchedule(this.#query, this.names, id);
  }

  setSchedulePaused(id: string, paused: boolean): Promise<boolean> {
    return fleet.setSchedulePaused(this.#query, this.names, id, paused);
  }

  listSchedules(): Promise<StoredSchedule[]> {
    return fleet.listSchedules(this.#query, this.names);
  }
}
