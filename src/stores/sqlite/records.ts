/**
 * The pieces every write shares, run inside a group transaction (see `committer.ts`): the
 * lease check, events, the finished and dead-letter sets with their counts, eviction. These
 * reproduce `redis/lua/includes/*.lua` as SQL.
 *
 * Which "set" a task is in is a column: `ready = 1` (ready, ordered by priority then `pos`),
 * `due_at` (delayed), `lease_until` (leased), `done_seq` (finished), `dead_seq` (dead letters).
 */

import {
  IdempotencyConflictError,
  InvalidArgumentError,
  NotFoundError,
  StaleLeaseError,
} from "../../errors.js";
import type { Tx } from "./committer.js";
import { countEvent } from "./totals.js";

/** Refusal codes, as the Lua scripts number them (`redis/lua/includes/lease.lua`). */
export const Refusal = {
  missing: -1,
  superseded: -2,
  cancelled: -3,
  notRunning: -4,
  idempotencyConflict: -6,
  idConflict: -7,
} as const;

/** What a lease check reads of a task. */
export interface LeaseFields {
  readonly status: string;
  readonly token: number | null;
  readonly outcome: string | null;
}

/**
 * `undefined` when `token` holds the task's lease; else what the write returns instead: the
 * earlier result (> 0) of the same `kind` of outcome already recorded under this token (a
 * retried call), or a refusal code.
 */
export function leaseRefusal(
  row: LeaseFields | undefined,
  token: string,
  kind?: "ack" | "nack" | "fail",
): number | undefined {
  if (row === undefined) return Refusal.missing;
  if (row.token === null || String(row.token) !== token) return Refusal.superseded;
  if (kind !== undefined && row.outcome !== null) {
    const at = row.outcome.indexOf(":");
    if (row.outcome.slice(0, at) === kind) return Number(row.outcome.slice(at + 1));
  }
  if (row.status === "cancelled") return Refusal.cancelled;
  if (row.status !== "running") return Refusal.notRunning;
  return undefined;
}

/** The lease fields of task `id`. */
export function readLease(tx: Tx, id: string): LeaseFields | undefined {
  return tx.sql.q("SELECT status, token, outcome FROM tasks WHERE id = ?").get(id) as
    | LeaseFields
    | undefined;
}

/** A refusal code as the error callers see. */
export function refusalError(
  code: number,
  context: {
    readonly id: string;
    readonly token?: string;
    readonly idempotencyKey?: string;
    readonly holderId?: string;
  },
): Error {
  const { id, token } = context;
  switch (code) {
    case Refusal.missing:
      return token === undefined
        ? new NotFoundError("task", id)
        : new StaleLeaseError(id, token, "missing");
    case Refusal.superseded:
      return new StaleLeaseError(id, token ?? "", "superseded");
    case Refusal.cancelled:
      return new StaleLeaseError(id, token ?? "", "cancelled");
    case Refusal.notRunning:
      return new StaleLeaseError(id, token ?? "", "not-running");
    case Refusal.idempotencyConflict:
      return new IdempotencyConflictError(context.idempotencyKey ?? "", context.holderId ?? "");
    case Refusal.idConflict:
      return new InvalidArgumentError(
        "id",
        "is already used by a task with a different name or payload",
        id,
      );
    default:
      return new Error(`unexpected SQLite store code ${code}`);
  }
}

/** The extra fields of an event. */
export interface EventExtras {
  readonly finishedAt?: number;
  readonly runAt?: number;
  readonly value?: string | null;
  readonly error?: string | null;
  readonly reason?: string;
}

/** Appends one event for task `id` to the feed, reading the task's own fields. */
export function emitEvent(tx: Tx, id: string, status: string, extras: EventExtras = {}): void {
  tx.sql
    .q(
      `INSERT INTO events (id, name, queue, status, attempts, at, created_at, started_at,
         finished_at, run_at, value, error, reason)
       SELECT id, name, queue, ?, attempts, ?, created_at, started_at, ?, ?, ?, ?, ?
       FROM tasks WHERE id = ?`,
    )
    .run(
      status,
      tx.now,
      extras.finishedAt ?? null,
      extras.runAt ?? null,
      extras.value ?? null,
      extras.error ?? null,
      extras.reason ?? null,
      id,
    );
  // The store totals, in the event's own transaction.
  countEvent(tx.sql, status);
  tx.evented();
}

/** Adds `delta` to the size of the finished (`done`) or dead-letter (`dead`) set. */
export function count(tx: Tx, set: "done" | "dead", delta: number): void {
  if (delta !== 0) tx.sql.add(`${set}_count`, delta);
}

/** The size of a set (as the running transaction sees it, when there is one). */
export function sizeOf(tx: Pick<Tx, "sql">, set: "done" | "dead"): number {
  return tx.sql.counter(`${set}_count`);
}

/** Moves a task that left every other set into the dead-letter queue, with a "failed" event. */
export function deadLetter(tx: Tx, id: string, errorJson: string): void {
  tx.sql
    .q(
      `UPDATE tasks SET status = 'failed', finished_at = ?, error = ?, lease_until = NULL,
         pos = NULL, ready = 0, due_at = NULL, run_at = NULL, dead_seq = ? WHERE id = ?`,
    )
    .run(tx.now, errorJson, tx.sql.next("seq"), id);
  count(tx, "dead", 1);
  emitEvent(tx, id, "failed", { error: errorJson, finishedAt: tx.now });
}

/** Puts a task that left every other set into the finished set. */
export function finish(tx: Tx, id: string): void {
  tx.sql.q("UPDATE tasks SET done_seq = ? WHERE id = ?").run(tx.sql.next("seq"), id);
  count(tx, "done", 1);
}

/** A set's column. */
function column(set: "done" | "dead"): string {
  return set === "done" ? "done_seq" : "dead_seq";
}

/** Deletes tasks of a set (their idempotency keys go with their rows). */
export function evict(tx: Tx, set: "done" | "dead", ids: readonly string[]): void {
  const remove = tx.sql.q(`DELETE FROM tasks WHERE id = ? AND ${column(set)} IS NOT NULL`);
  let removed = 0;
  for (const id of ids) removed += remove.run(id).changes;
  count(tx, set, -removed);
}

/**
 * Evicts entries of a set older than `ttlMs` (0: no age bound) and beyond `maxEntries` (-1: no
 * count bound), oldest first, at most `budget` per call. Returns how many went.
 */
export function trimSet(
  tx: Tx,
  set: "done" | "dead",
  bound: { readonly ttlMs: number; readonly maxEntries: number },
  budget: number,
): number {
  const col = column(set);
  const old: string[] = [];
  if (bound.ttlMs > 0) {
    const cutoff = tx.now - bound.ttlMs;
    // Oldest first, stopping at the first one young enough: usually one row read.
    const rows = tx.sql
      .q(`SELECT id, finished_at FROM tasks WHERE ${col} IS NOT NULL ORDER BY ${col} LIMIT ?`)
      .iterate(budget) as IterableIterator<{ id: string; finished_at: number }>;
    for (const row of rows) {
      if (row.finished_at > cutoff) {
        rows.return?.();
        break;
      }
      old.push(row.id);
    }
    evict(tx, set, old);
  }
  let removed = old.length;
  if (bound.maxEntries >= 0 && removed < budget) {
    const excess = sizeOf(tx, set) - bound.maxEntries;
    if (excess > 0) {
      const ids = tx.sql
        .q(`SELECT id FROM tasks WHERE ${col} IS NOT NULL ORDER BY ${col} LIMIT ?`)
        .pluck()
        .all(Math.min(excess, budget - removed)) as string[];
      evict(tx, set, ids);
      removed += ids.length;
    }
  }
  return removed;
}

/** The error JSON of a task that expired before its first start. */
export const EXPIRED_ERROR = JSON.stringify({
  name: "ExpiredError",
  code: "ERR_EXPIRED",
  message: "The task expired before it could start",
});

/** The error JSON of a lease that lapsed. */
export const LAPSED_ERROR = JSON.stringify({
  name: "LeaseExpiredError",
  code: "ERR_LEASE_EXPIRED",
  message: "The worker's lease expired before it reported an outcome",
});

/** The error JSON of a task delivered too often without an outcome. */
export function poisonError(delivered: number, maxDeliveries: number): string {
  return JSON.stringify({
    name: "PoisonTaskError",
    code: "ERR_POISON",
    message: `The task was delivered ${delivered} times without an outcome (maxDeliveries ${maxDeliveries})`,
  });
}
