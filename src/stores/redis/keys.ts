/**
 * The Redis key layout. Every key starts with the hash tag `{prefix}` so that all of them hash
 * to one slot: the Lua scripts may touch any of them atomically, on a single node or on Redis
 * Cluster. Nothing else in the backend builds key strings; Lua scripts that derive per-task keys
 * do so from {@link KeySpace.base} (passed to them in KEYS), which carries the same hash tag.
 *
 * | key                          | type   | holds                                                     |
 * | ---------------------------- | ------ | --------------------------------------------------------- |
 * | `{p}:t:<id>`                 | hash   | one task (fields: see `codec.ts`)                         |
 * | `{p}:q:<queue>:ready`        | zset   | ready tasks; score `-priority`, member `<seq 16>:<id>`    |
 * | `{p}:q:<queue>:marker`       | list   | wake-up token for blocked workers (0 or 1 element)        |
 * | `{p}:queues`                 | set    | every queue name ever used (for `queues()` and `list`)    |
 * | `{p}:delayed`                | zset   | delayed tasks and retries; score = due time (ms)          |
 * | `{p}:leases`                 | zset   | running tasks; score = lease expiry (ms)                  |
 * | `{p}:dlq`                    | zset   | dead letters; score = time of failure (µs, keeps order)   |
 * | `{p}:finished`               | zset   | succeeded/cancelled/expired tasks; score = finish time µs |
 * | `{p}:idem:<key>`             | string | idempotency key → task id                                 |
 * | `{p}:events`                 | stream | lifecycle events and results (trimmed, MAXLEN ~)          |
 * | `{p}:totals`                 | hash   | outcome counts per event status, written with each event  |
 * | `{p}:rate`                   | hash   | global token bucket: `tokens`, `ts`                       |
 * | `{p}:fence`                  | string | fencing-token counter (INCR)                              |
 * | `{p}:seq`                    | string | ready-order counter (FIFO within a priority)              |
 * | `{p}:rcpt:<request id>`      | string | claim receipt: `<id> <token> ...` leased by one claim call, |
 * |                              |        | expires with the lease (a lost reply is recovered from it) |
 * | `{p}:leader:<name>`          | string | leader lock: owner token, PX TTL (`cron`: cron scheduler) |
 * | `{p}:paused`                 | set    | names of the queues paused for every process (claim skips) |
 * | `{p}:workers`                | hash   | worker registry: id → report JSON                         |
 * | `{p}:workers:hb`             | zset   | id → Redis time of the worker's last heartbeat (ms)       |
 * | `{p}:schedules`              | hash   | shared cron schedules: id → schedule JSON                 |
 * | `{p}:schedules:paused`       | set    | ids of paused schedules                                   |
 * | `{p}:audit`                  | zset   | admin audit records; score = seq, member = record JSON    |
 * | `{p}:audit:meta`             | hash   | audit chain: `seq`, `head`, `anchorSeq`, `anchor`         |
 *
 * `<p>` is the prefix, `taskmill` by default. Members of a ready zset sort by score and then
 * lexicographically, so the zero-padded global sequence keeps equal priorities FIFO, and a
 * single sequence across queues keeps them FIFO across queues too.
 */

import { InvalidOptionError } from "../../errors.js";

/** The default key prefix. */
export const DEFAULT_PREFIX = "taskmill";

/** Builds every key of one prefix. */
export class KeySpace {
  /** `{prefix}:`, the stem Lua scripts use to derive `t:<id>` and queue keys. */
  readonly base: string;
  readonly queues: string;
  readonly delayed: string;
  readonly leases: string;
  readonly dlq: string;
  readonly finished: string;
  readonly events: string;
  /** Outcome counts per event status (`event.lua` derives it from `events`). */
  readonly totals: string;
  readonly rate: string;
  readonly fence: string;
  readonly seq: string;
  /** Queues paused for every process (the claim script derives it from `base` too). */
  readonly paused: string;
  readonly workers: string;
  readonly workerBeats: string;
  readonly schedules: string;
  readonly pausedSchedules: string;
  /** The audit records (zset) and the chain's head and anchor (hash). */
  readonly audit: string;
  readonly auditMeta: string;
  /** Stand-in idempotency key for scripts when a task has none (same slot, never written). */
  readonly noIdempotencyKey: string;
  /** Stand-in receipt key for claims without a request id (same slot, never written). */
  readonly noReceipt: string;

  constructor(readonly prefix: string = DEFAULT_PREFIX) {
    if (typeof prefix !== "string" || prefix.length === 0 || /[{}]/.test(prefix))
      throw new InvalidOptionError(
        "backend.prefix",
        "must be a non-empty string without braces",
        prefix,
      );
    this.base = `{${prefix}}:`;
    this.queues = `${this.base}queues`;
    this.delayed = `${this.base}delayed`;
    this.leases = `${this.base}leases`;
    this.dlq = `${this.base}dlq`;
    this.finished = `${this.base}finished`;
    this.events = `${this.base}events`;
    this.totals = `${this.base}totals`;
    this.rate = `${this.base}rate`;
    this.fence = `${this.base}fence`;
    this.seq = `${this.base}seq`;
    this.paused = `${this.base}paused`;
    this.workers = `${this.base}workers`;
    this.workerBeats = `${this.base}workers:hb`;
    this.schedules = `${this.base}schedules`;
    this.pausedSchedules = `${this.base}schedules:paused`;
    this.audit = `${this.base}audit`;
    this.auditMeta = `${this.base}audit:meta`;
    this.noIdempotencyKey = `${this.base}idem:`;
    this.noReceipt = `${this.base}rcpt:`;
  }

  task(id: string): string {
    return `${this.base}t:${id}`;
  }

  ready(queue: string): string {
    return `${this.base}q:${queue}:ready`;
  }

  marker(queue: string): string {
    return `${this.base}q:${queue}:marker`;
  }

  idempotency(key: string): string {
    return `${this.base}idem:${key}`;
  }

  /** The receipt of the claim call with this request id. */
  receipt(requestId: string): string {
    return `${this.base}rcpt:${requestId}`;
  }

  /** The leader lock `name` (`cron`: the cron scheduler's, see `leader-lock.ts`). */
  leader(name: string): string {
    return `${this.base}leader:${name}`;
  }
}

/** Task id from a ready-zset member (`<16-digit seq>:<id>`). */
export function idFromReadyMember(member: string): string {
  return member.slice(member.indexOf(":") + 1);
}
