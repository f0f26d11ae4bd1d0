import { IdempotencyConflictError, InvalidArgumentError } from "../errors.js";
import { ALLOWED_TRANSITIONS, isTerminal, type TaskStatus } from "../lifecycle/states.js";
import type { TaskRecord } from "../lifecycle/task-record.js";
import { wrongOrder } from "../list-order.js";
import type { ListOptions, TaskPage } from "../types.js";
import { resolvePageLimit } from "../validation.js";
import { AgeQueue } from "./age-queue.js";
import { fingerprint } from "./fingerprint.js";
import { OrderIndex } from "./order-index.js";
import { TaskIdFormat } from "./task-ids.js";

interface IdempotencyEntry {
  readonly record: TaskRecord;
  readonly fingerprint: string | undefined;
  readonly payload: unknown;
}

/**
 * Every live task plus the finished ones still retained. Finished records are evicted oldest
 * first, by count (`maxEntries`) and by age (`ttlMs`); live records are never evicted. An
 * idempotency key lives exactly as long as its task's record.
 */
export class Registry {
  /** Every record, keyed by submission order (a cheap numeric key; see task-ids.ts). */
  readonly #records = new OrderIndex<TaskRecord>();
  /** Ids made by a custom `createId`, mapped to their order. Empty with the default ids. */
  readonly #customIds = new Map<string, number>();
  readonly #ids = new TaskIdFormat();
  /** Finished records in the order they finished (which is also finishedAt order). */
  readonly #finished = new AgeQueue<TaskRecord>(
    (record) => record.retainedStamp,
    (record, stamp) => {
      record.retainedStamp = stamp;
    },
  );
  readonly #keys = new Map<string, IdempotencyEntry>();
  #nextOrder = 0;

  constructor(
    private readonly retention: { readonly ttlMs: number; readonly maxEntries: number },
    private readonly createId?: () => string,
  ) {}

  /** Reserves the submission order of a new task. */
  claimOrder(): number {
    return this.#nextOrder++;
  }

  /** The id of the task with this order: the custom `createId`'s, or one encoding the order. */
  idFor(order: number): string {
    return this.createId === undefined ? this.#ids.format(order) : this.createId();
  }

  get size(): number {
    return this.#records.size;
  }

  get finishedCount(): number {
    return this.#finished.size;
  }

  get(id: string): TaskRecord | undefined {
    const order = this.createId === undefined ? this.#ids.parse(id) : this.#customIds.get(id);
    if (order === undefined || order < 0) return undefined;
    const record = this.#records.get(order);
    return record?.id === id ? record : undefined;
  }

  /**
   * The task already holding `key`, if the same name and payload were submitted; throws
   * `IdempotencyConflictError` if a different name or payload holds it.
   */
  findByKey(key: string, name: string, payload: unknown): TaskRecord | undefined {
    const entry = this.#keys.get(key);
    if (entry === undefined) return undefined;
    const print = entry.fingerprint === undefined ? undefined : fingerprint(payload);
    const samePayload =
      entry.fingerprint === undefined
        ? Object.is(entry.payload, payload)
        : print === entry.fingerprint;
    if (entry.record.name !== name || !samePayload)
      throw new IdempotencyConflictError(key, entry.record.id);
    return entry.record;
  }

  add(record: TaskRecord): void {
    this.#records.set(record.order, record);
    if (this.createId !== undefined) this.#customIds.set(record.id, record.order);
    // A key is never taken from the task holding it (a DLQ replay re-adds an evicted record
    // whose key a newer task may have claimed since).
    if (record.idempotencyKey !== undefined && !this.#keys.has(record.idempotencyKey)) {
      const print = fingerprint(record.payload);
      this.#keys.set(record.idempotencyKey, {
        record,
        fingerprint: print,
        payload: print === undefined ? record.payload : undefined,
      });
    }
  }

  /** Records that a task reached a terminal state; evicts over `maxEntries`. */
  finished(record: TaskRecord): void {
    this.#finished.push(record); // a replayed task re-enters at the back
    while (this.#finished.size > this.retention.maxEntries) this.#evictOldest();
  }

  /** A replayed task is live again: it must not be evicted while it runs. */
  reopened(record: TaskRecord): void {
    this.#finished.delete(record);
  }

  /** Evicts finished records older than `ttlMs`; returns when the next one is due (or undefined). */
  sweep(now: number): number | undefined {
    for (
      let record = this.#finished.oldest();
      record !== undefined;
      record = this.#finished.oldest()
    ) {
      const due = (record.finishedAt ?? now) + this.retention.ttlMs;
      if (due > now) return due;
      this.#evict(record);
    }
    return undefined;
  }

  /** The time the oldest finished record expires, if any. */
  nextExpiry(): number | undefined {
    const oldest = this.#finished.oldest();
    return oldest === undefined ? undefined : (oldest.finishedAt ?? 0) + this.retention.ttlMs;
  }

  /** Live (non-terminal) records, in submission order. */
  *live(): IterableIterator<TaskRecord> {
    for (const record of this.#records.values()) if (!isTerminal(record.status)) yield record;
  }

  /** One page of records matching the filters, in submission order. */
  list(options: ListOptions = {}): TaskPage {
    const limit = resolvePageLimit(options.limit);
    const newest = options.order === "newest";
    const after = decodeCursor(options.cursor, newest);
    const statuses = normaliseStatuses(options.status);
    const tasks = [];
    let lastOrder = -1;
    let more = false;
    const records = newest ? this.#records.valuesDescending() : this.#records.values();
    for (const record of records) {
      const order = record.order;
      if (after !== undefined && (newest ? order >= after : order <= after)) continue;
      if (statuses !== undefined && !statuses.has(record.status)) continue;
      if (options.queue !== undefined && record.queue !== options.queue) continue;
      if (options.name !== undefined && record.name !== options.name) continue;
      if (tasks.length === limit) {
        more = true;
        break;
      }
      tasks.push(record.snapshot());
      lastOrder = order;
    }
    return more ? { tasks, nextCursor: encodeCursor(lastOrder, newest) } : { tasks };
  }

  #evictOldest(): void {
    const oldest = this.#finished.oldest();
    if (oldest !== undefined) this.#evict(oldest);
  }

  #evict(record: TaskRecord): void {
    this.#finished.delete(record);
    this.#records.delete(record.order);
    if (this.createId !== undefined) this.#customIds.delete(record.id);
    const key = record.idempotencyKey;
    if (key !== undefined && this.#keys.get(key)?.record === record) this.#keys.delete(key);
  }
}

function normaliseStatuses(status: ListOptions["status"]): ReadonlySet<TaskStatus> | undefined {
  if (status === undefined) return undefined;
  const statuses = typeof status === "string" ? [status] : status;
  // A typo must not silently return an empty page.
  for (const one of Array.isArray(statuses) ? statuses : [statuses])
    if (!(one in ALLOWED_TRANSITIONS))
      throw new InvalidArgumentError(
        "status",
        `must be one of ${Object.keys(ALLOWED_TRANSITIONS).join(", ")}`,
        one,
      );
  return new Set(statuses);
}

/** `o:<order>` oldest first, `n:<order>` newest first. */
function encodeCursor(order: number, newest: boolean): string {
  return Buffer.from(`${newest ? "n" : "o"}:${order}`).toString("base64url");
}

function decodeCursor(cursor: string | undefined, newest: boolean): number | undefined {
  if (cursor === undefined) return undefined;
  const text = typeof cursor === "string" ? Buffer.from(cursor, "base64url").toString() : "";
  const order = /^[on]:/.test(text) ? Number(text.slice(2)) : Number.NaN;
  if (!Number.isInteger(order) || order < 0)
    throw new InvalidArgumentError("cursor", "must be a nextCursor returned by list()", cursor);
  if (text.startsWith("n:") !== newest) throw wrongOrder(cursor);
  return order;
}
