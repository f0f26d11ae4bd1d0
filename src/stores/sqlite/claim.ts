/**
 * One worker step (`redis/lua/claim-N.lua` as SQL, in one group transaction): acks, then
 * promotion of due delayed tasks, the global rate bucket, and leases on up to `max` ready
 * tasks (highest priority first across the queues, FIFO within a priority), each with a fresh
 * fencing token from the `fence` counter row.
 *
 * There are no request receipts: a SQLite call cannot lose its reply (it runs in this process),
 * so a step either committed and returned its leases, or rolled back and changed nothing.
 */
import type { TokenBucketConfig } from "../../scheduling/token-bucket.js";
import type { ClaimedTask, StepResult } from "../durable-types.js";
import { type TaskRow, toTask } from "./codec.js";
import type { Tx } from "./committer.js";
import { flowNodeEnded } from "./flows.js";
import { unpaused } from "./pause.js";
import {
  count,
  deadLetter,
  EXPIRED_ERROR,
  emitEvent,
  finish,
  leaseRefusal,
  poisonError,
  trimSet,
} from "./records.js";

/** One ack of a step, its result already JSON (null for `undefined`). */
export interface EncodedAck {
  readonly id: string;
  readonly token: string;
  readonly value: string | null;
}

/** What a claim needs besides the queues. */
export interface ClaimSettings {
  readonly max: number;
  readonly leaseMs: number;
  readonly maxDeliveries: number;
  readonly rate: TokenBucketConfig | undefined;
  readonly promoteBatch: number;
  readonly retention: Bound;
  readonly deadLetters: Bound;
  readonly trimBudget: number;
}

type Bound = { readonly ttlMs: number; readonly maxEntries: number };

/** Skipped candidates (expired, poison) per call, so a pathological backlog stays bounded. */
const MAX_SKIPS = 100;

/**
 * Records one success under `token` (`complete` in `includes/complete.lua`): the finish time,
 * the earlier one for a repeated ack, or a refusal code. The caller trims the finished set.
 */
export function complete(tx: Tx, ack: EncodedAck): number {
  const row = tx.sql.q("SELECT status, token, outcome FROM tasks WHERE id = ?").get(ack.id) as
    | { status: string; token: number | null; outcome: string | null }
    | undefined;
  const refused = leaseRefusal(row, ack.token, "ack");
  if (refused !== undefined) return refused;
  // Into the finished set in the same statement (see `finish`).
  tx.sql
    .q(
      `UPDATE tasks SET status = 'succeeded', outcome = ?, lease_until = NULL, finished_at = ?,
         error = NULL, value = ?, done_seq = ? WHERE id = ?`,
    )
    .run(`ack:${tx.now}`, tx.now, ack.value, tx.sql.next("seq"), ack.id);
  count(tx, "done", 1);
  emitEvent(tx, ack.id, "succeeded", { finishedAt: tx.now, value: ack.value });
  flowNodeEnded(tx, ack.id);
  return tx.now;
}

/** The step: acks, then (with `max` > 0) a claim. */
export function step(
  tx: Tx,
  acks: readonly EncodedAck[],
  asked: readonly string[],
  settings: ClaimSettings,
): Omit<StepResult, "acks"> & { readonly ackCodes: number[] } {
  // Queues paused for every process are left out in this transaction (see pause.ts).
  const queues = settings.max > 0 ? unpaused(tx, asked) : asked;
  const ackCodes = acks.map((ack) => complete(tx, ack));
  if (ackCodes.some((code) => code === tx.now))
    trimSet(tx, "done", settings.retention, settings.trimBudget);
  const now = tx.now;
  if (settings.max <= 0)
    return {
      ackCodes,
      tasks: [],
      now,
      nextDueAt: undefined,
      rateWaitMs: 0,
      poisoned: 0,
      expired: 0,
    };
  promote(tx, settings.promoteBatch);

  const bucket = settings.rate === undefined ? undefined : readBucket(tx, settings.rate);
  const allowed =
    bucket === undefined ? settings.max : Math.min(settings.max, Math.floor(bucket + 1e-9));
  const leaseUntil = now + settings.leaseMs;
  const claimed: ClaimedTask[] = [];
  let poisoned = 0;
  let expired = 0;
  let skipsLeft = MAX_SKIPS;
  while (claimed.length < allowed && skipsLeft > 0) {
    const rows = candidates(tx, queues, allowed - claimed.length);
    if (rows.length === 0) break;
    let token = tx.sql.next("fence", rows.length);
    for (const row of rows) {
      const fence = token++;
      if (
        row.status === "queued" &&
        row.started_at === null &&
        row.expires_at !== null &&
        row.expires_at <= now
      ) {
        tx.sql
          .q(
            `UPDATE tasks SET status = 'expired', finished_at = ?, error = ?, ready = 0, pos = NULL
             WHERE id = ?`,
          )
          .run(now, EXPIRED_ERROR, row.id);
        finish(tx, row.id);
        emitEvent(tx, row.id, "expired", { error: EXPIRED_ERROR, finishedAt: now });
        flowNodeEnded(tx, row.id);
        expired++;
        skipsLeft--;
        continue;
      }
      const deliveries = row.deliveries + 1;
      if (settings.maxDeliveries > 0 && deliveries > settings.maxDeliveries) {
        deadLetter(tx, row.id, poisonError(deliveries - 1, settings.maxDeliveries));
        flowNodeEnded(tx, row.id);
        poisoned++;
        skipsLeft--;
        continue;
      }
      // The ready position (pos) stays: a reclaim puts the task back in the same place.
      const startedAt = row.started_at ?? now;
      tx.sql
        .q(
          `UPDATE tasks SET status = 'running', token = ?, lease_until = ?, deliveries = ?,
             attempts = attempts + 1, started_at = ?, run_at = NULL, outcome = NULL, ready = 0
           WHERE id = ?`,
        )
        .run(fence, leaseUntil, deliveries, startedAt, row.id);
      const task = toTask(row);
      claimed.push({
        ...task,
        status: "running",
        attempts: row.attempts + 1,
        deliveries,
        runAt: undefined,
        startedAt,
        token: String(fence),
        fence,
        leaseUntil,
        value: undefined,
        progress: undefined,
        ...(row.deps == null ? {} : { dependencies: JSON.parse(row.deps) }),
      });
    }
  }
  const workLeft = () =>
    queues.some(
      (queue) =>
        tx.sql.q("SELECT 1 FROM tasks WHERE ready = 1 AND queue = ? LIMIT 1").get(queue) !==
        undefined,
    );
  let rateWaitMs = 0;
  if (bucket !== undefined && settings.rate !== undefined) {
    const tokens = bucket - claimed.length;
    writeBucket(tx, tokens);
    if (claimed.length === allowed && allowed < settings.max && tokens < 1 && workLeft())
      rateWaitMs = Math.ceil(((1 - tokens) * 1000) / settings.rate.perSecond);
  }
  // Filled up with work left: let another waiting worker claim the rest.
  if ((claimed.length === settings.max || skipsLeft <= 0) && workLeft()) tx.wake();
  if (poisoned > 0) trimSet(tx, "dead", settings.deadLetters, settings.trimBudget);
  if (expired > 0) trimSet(tx, "done", settings.retention, settings.trimBudget);
  let nextDueAt: number | undefined;
  if (claimed.length < settings.max)
    nextDueAt =
      (tx.sql
        .q("SELECT due_at FROM tasks WHERE due_at IS NOT NULL ORDER BY due_at LIMIT 1")
        .pluck()
        .get() as number | undefined) ?? undefined;
  return { ackCodes, tasks: claimed, now, nextDueAt, rateWaitMs, poisoned, expired };
}

/** Moves due delayed tasks (oldest due first, bounded) into their ready queue. */
function promote(tx: Tx, batch: number): void {
  const due = tx.sql
    .q(
      "SELECT id, status FROM tasks WHERE due_at IS NOT NULL AND due_at <= ? ORDER BY due_at, id LIMIT ?",
    )
    .all(tx.now, batch) as Array<{ id: string; status: string }>;
  if (due.length === 0) return;
  let pos = tx.sql.next("seq", due.length);
  const update = tx.sql.q(
    `UPDATE tasks SET ready = 1, pos = ?, due_at = NULL, run_at = NULL,
       status = CASE status WHEN 'scheduled' THEN 'queued' ELSE status END
     WHERE id = ?`,
  );
  for (const { id, status } of due) {
    if (status === "scheduled" || status === "retrying") update.run(pos++, id);
    else tx.sql.q("UPDATE tasks SET due_at = NULL WHERE id = ?").run(id);
  }
  tx.wake();
}

const CLAIM_COLUMNS =
  "id, name, queue, status, priority, payload, attempts, deliveries, created_at, run_at, " +
  "expires_at, started_at, finished_at, token, lease_until, max_retries, timeout_ms, retry, " +
  "meta, idem, value, error, pos, deps";

/** Up to `need` ready tasks across `queues`, best first (priority, then FIFO position). */
function candidates(
  tx: Tx,
  queues: readonly string[],
  need: number,
): Array<TaskRow & { pos: number }> {
  const select = tx.sql.q(
    `SELECT ${CLAIM_COLUMNS} FROM tasks WHERE ready = 1 AND queue = ?
     ORDER BY priority DESC, pos LIMIT ?`,
  );
  const unique = [...new Set(queues)];
  if (unique.length === 1) return select.all(unique[0], need) as Array<TaskRow & { pos: number }>;
  const all = unique.flatMap(
    (queue) => select.all(queue, need) as Array<TaskRow & { pos: number }>,
  );
  all.sort((a, b) => b.priority - a.priority || a.pos - b.pos);
  return all.slice(0, need);
}

/** The global bucket's tokens now: refilled from the store clock, never above burst. */
function readBucket(tx: Tx, rate: TokenBucketConfig): number {
  const rows = tx.sql
    .q("SELECT key, value FROM meta WHERE key IN ('rate_tokens', 'rate_ts')")
    .all() as Array<{ key: string; value: number | null }>;
  const get = (key: string) => rows.find((row) => row.key === key)?.value ?? null;
  let tokens = get("rate_tokens") ?? rate.burst;
  const ts = get("rate_ts") ?? tx.now;
  if (tx.now > ts) tokens += ((tx.now - ts) * rate.perSecond) / 1000;
  return Math.min(rate.burst, tokens);
}

function writeBucket(tx: Tx, tokens: number): void {
  const write = tx.sql.q("UPDATE meta SET value = ? WHERE key = ?");
  write.run(tokens, "rate_tokens");
  write.run(tx.now, "rate_ts");
}
