/**
 * Storing tasks (`redis/lua/enqueue-8.lua` and `enqueue-many-4.lua` as SQL). Inputs are
 * validated and encoded by the same code as the Redis store's (`encodeTask`), so both refuse
 * the same inputs with the same errors before anything is written.
 */
import type { TaskStatus } from "../../lifecycle/states.js";
import type { EnqueueInput, EnqueueResult } from "../durable-types.js";
import { type EncodedTask, encodeTask } from "../redis/enqueue.js";
import type { Tx } from "./committer.js";
import { Refusal, refusalError } from "./records.js";

/** A task validated and encoded, ready to be written. */
export interface TaskInsert {
  readonly id: string;
  readonly name: string;
  readonly queue: string;
  readonly payload: string | null;
  readonly priority: number;
  readonly delayMs: number | undefined;
  readonly runAt: number | undefined;
  readonly ttlMs: number | undefined;
  readonly expiresAt: number | undefined;
  readonly idem: string | null;
  readonly fp: string | null;
  readonly maxRetries: number | null;
  readonly timeoutMs: number | null;
  readonly retry: string | null;
  readonly meta: string | null;
}

/** Validates `input` (errors name `at` + the argument) and encodes it. */
export function prepareTask(input: EnqueueInput, at = ""): TaskInsert {
  return fromEncoded(encodeTask(input, at));
}

function fromEncoded(task: EncodedTask): TaskInsert {
  // encodeTask's 16 script arguments (see redis/lua/includes/enqueue.lua), "" for unset.
  const a = task.args;
  const text = (i: number): string | null => (a[i] === "" ? null : String(a[i]));
  const num = (i: number): number | undefined => (a[i] === "" ? undefined : Number(a[i]));
  return {
    id: task.id,
    name: String(a[1]),
    queue: task.queue,
    payload: text(3),
    priority: Number(a[4]),
    delayMs: num(5),
    runAt: num(6),
    ttlMs: num(7),
    expiresAt: num(8),
    idem: text(9),
    fp: text(10),
    maxRetries: num(11) ?? null,
    timeoutMs: num(12) ?? null,
    retry: text(13),
    meta: text(14),
  };
}

/**
 * Stores one task, or finds the task its idempotency key (or id) names. A conflict throws the
 * typed error (the caller's savepoint undoes anything written before it in the same call).
 */
export function insertTask(tx: Tx, task: TaskInsert): EnqueueResult {
  const held = heldBy(tx, task);
  if (held !== undefined) {
    if (held.code === 0) return { id: held.id, created: false, status: held.status };
    throw refusalError(held.code, {
      id: task.id,
      holderId: held.id,
      ...(task.idem === null ? {} : { idempotencyKey: task.idem }),
    });
  }
  const now = tx.now;
  const runAt = task.runAt ?? (task.delayMs === undefined ? undefined : now + task.delayMs);
  const expiresAt = task.expiresAt ?? (task.ttlMs === undefined ? undefined : now + task.ttlMs);
  const delayed = runAt !== undefined && runAt > now;
  const status: TaskStatus = delayed ? "scheduled" : "queued";
  tx.sql
    .q(
      `INSERT INTO tasks (id, name, queue, status, priority, payload, created_at, run_at,
         expires_at, max_retries, timeout_ms, retry, meta, idem, fp, pos, ready, due_at)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
    )
    .run(
      task.id,
      task.name,
      task.queue,
      status,
      task.priority,
      task.payload,
      now,
      delayed ? Math.ceil(runAt) : null,
      expiresAt === undefined ? null : Math.ceil(expiresAt),
      task.maxRetries,
      task.timeoutMs,
      task.retry,
      task.meta,
      task.idem,
      task.fp,
      delayed ? null : tx.sql.next("seq"),
      delayed ? 0 : 1,
      delayed ? Math.ceil(runAt) : null,
    );
  tx.sql.q("INSERT OR IGNORE INTO queues (name) VALUES (?)").run(task.queue);
  tx.wake();
  return { id: task.id, created: true, status };
}

/** Stores tasks in order, all or nothing (a refusal throws and the savepoint undoes the rest). */
export function insertTasks(tx: Tx, tasks: readonly TaskInsert[]): EnqueueResult[] {
  return tasks.map((task) => insertTask(tx, task));
}

/**
 * The existing task the input names: by its idempotency key first (a key whose holder was
 * evicted is free again: the row went with it), then by its id. Code 0 for the same name and
 * payload (fingerprint), else the conflict's code.
 */
function heldBy(
  tx: Tx,
  task: TaskInsert,
): { readonly code: number; readonly id: string; readonly status: TaskStatus } | undefined {
  const fp = task.fp ?? "";
  if (task.idem !== null) {
    const row = tx.sql.q("SELECT id, fp, status FROM tasks WHERE idem = ?").get(task.idem) as
      | { id: string; fp: string | null; status: TaskStatus }
      | undefined;
    if (row !== undefined)
      return {
        code: (row.fp ?? "") === fp ? 0 : Refusal.idempotencyConflict,
        id: row.id,
        status: row.status,
      };
  }
  const row = tx.sql.q("SELECT fp, status FROM tasks WHERE id = ?").get(task.id) as
    | { fp: string | null; status: TaskStatus }
    | undefined;
  if (row === undefined) return undefined;
  return { code: (row.fp ?? "") === fp ? 0 : Refusal.idConflict, id: task.id, status: row.status };
}
