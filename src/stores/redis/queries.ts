/**
 * Read-only queries: `get`, `list`, queue depths and counts. No SCAN: every listing walks the
 * sorted sets that already index tasks by state, so its cost depends on what is listed, not
 * on the size of the keyspace.
 *
 * | status                           | walked zset(s)                                 |
 * | -------------------------------- | ---------------------------------------------- |
 * | queued, retrying (due)           | each queue's ready zset, queues in name order  |
 * | scheduled, retrying (waiting)    | delayed, by due time                           |
 * | running                          | leases, by lease expiry                        |
 * | failed                           | dlq, by failure time                           |
 * | succeeded, cancelled, expired    | finished, by finish time                       |
 */

import { InvalidArgumentError } from "../../errors.js";
import type { TaskStatus } from "../../lifecycle/states.js";
import { wrongOrder } from "../../list-order.js";
import type { ListOptions } from "../../types.js";
import type { QueueDepth, StoreCounts, StoredTask, StoredTaskPage } from "../durable-types.js";
import { checkListFilter, matchesListFilter } from "../list-filter.js";
import type { RedisClient } from "./client.js";
import { fieldMap, LIST_FIELDS, listFieldMap, parseTask } from "./codec.js";
import { idFromReadyMember, type KeySpace } from "./keys.js";

/** A zset that indexes tasks, walked in score order. */
export interface IndexSource {
  /** Stable id written into cursors. */
  readonly id: string;
  readonly key: string;
  /** True for ready zsets, whose members are `<seq>:<id>`. */
  readonly ready: boolean;
}

/** Where a walk stopped: the last entry examined. */
interface Position {
  readonly score: string;
  readonly member: string;
}

/** Fetch size per ZRANGE. */
const BATCH = 200;

/** The task with its payload, or `undefined`. */
export async function getTask(
  redis: RedisClient,
  keys: KeySpace,
  id: string,
): Promise<StoredTask | undefined> {
  if (typeof id !== "string" || id.length === 0)
    throw new InvalidArgumentError("id", "must be a non-empty string", id);
  const hash = await redis.hgetall(keys.task(id));
  if (hash.status === undefined) return undefined;
  return parseTask(fieldMap(Object.entries(hash).flat(), "get"), "get");
}

/** One page of `list`: tasks from the sources the status filter names, in the table's order. */
export async function listTasks(
  redis: RedisClient,
  keys: KeySpace,
  options: ListOptions,
): Promise<StoredTaskPage> {
  const filter = checkListFilter(options);
  const { limit, statuses, queue } = filter;
  const wants = (status: TaskStatus) => statuses.has(status);
  const sources: IndexSource[] = [];
  if (wants("queued") || wants("retrying")) {
    const queues = queue === undefined ? (await redis.smembers(keys.queues)).sort() : [queue];
    for (const q of queues) sources.push({ id: `r:${q}`, key: keys.ready(q), ready: true });
  }
  if (wants("scheduled") || wants("retrying"))
    sources.push({ id: "delayed", key: keys.delayed, ready: false });
  if (wants("running")) sources.push({ id: "leases", key: keys.leases, ready: false });
  if (wants("failed")) sources.push({ id: "dlq", key: keys.dlq, ready: false });
  if (wants("succeeded") || wants("cancelled") || wants("expired"))
    sources.push({ id: "finished", key: keys.finished, ready: false });
  return walkSources(
    redis,
    keys,
    sources,
    options.cursor,
    limit,
    (task) => matchesListFilter(filter, task),
    options.order === "newest",
  );
}

/**
 * Walks `sources` in order from `cursor`, collecting up to `limit` tasks that `accept`,
 * examining at most `max(1000, 10 * limit)` entries. `newest`: the exact reverse walk (the
 * sources last to first, each zset from its highest score).
 */
export async function walkSources(
  redis: RedisClient,
  keys: KeySpace,
  forward: readonly IndexSource[],
  cursor: string | undefined,
  limit: number,
  accept: (task: StoredTask) => boolean,
  newest = false,
): Promise<StoredTaskPage> {
  const sources = newest ? [...forward].reverse() : forward;
  const start = decodeCursor(cursor, newest);
  let index = 0;
  if (start !== undefined) {
    index = sources.findIndex((source) => source.id === start.source);
    if (index < 0)
      throw new InvalidArgumentError("cursor", "does not belong to this listing's filters", cursor);
  }
  const state = { found: [] as StoredTask[], budget: Math.max(1_000, limit * 10), limit };
  for (; index < sources.length; index++) {
    const source = sources[index] as IndexSource;
    const after = start !== undefined && start.source === source.id ? start.position : undefined;
    const stop = await walkSource(redis, keys, source, after, accept, state, newest);
    if (stop !== undefined)
      return { tasks: state.found, nextCursor: encodeCursor(source.id, stop, newest) };
  }
  return { tasks: state.found };
}

/** Walks one zset; returns where it stopped, or `undefined` when it reached the end. */
async function walkSource(
  redis: RedisClient,
  keys: KeySpace,
  source: IndexSource,
  after: Position | undefined,
  accept: (task: StoredTask) => boolean,
  state: { found: StoredTask[]; budget: number; readonly limit: number },
  newest: boolean,
): Promise<Position | undefined> {
  let offset = 0;
  // Set when the cursor's entry has moved on since: restart at its score, skip up to it.
  let skipUpTo: Position | undefined;
  if (after !== undefined) {
    const rank = await (newest
      ? redis.zrevrank(source.key, after.member)
      : redis.zrank(source.key, after.member));
    if (rank !== null) offset = rank + 1;
    else {
      offset = await (newest
        ? redis.zcount(source.key, `(${after.score}`, "+inf")
        : redis.zcount(source.key, "-inf", `(${after.score}`));
      skipUpTo = after;
    }
  }
  for (;;) {
    const stop = offset + BATCH - 1;
    const flat = await (newest
      ? redis.zrevrange(source.key, offset, stop, "WITHSCORES")
      : redis.zrange(source.key, offset, stop, "WITHSCORES"));
    const rows: Position[] = [];
    for (let i = 0; i + 1 < flat.length; i += 2) {
      const row = { member: flat[i] as string, score: flat[i + 1] as string };
      if (skipUpTo !== undefined && !isAfter(row, skipUpTo, newest)) continue;
      rows.push(row);
    }
    const pipeline = redis.pipeline();
    for (const row of rows) {
      const id = source.ready ? idFromReadyMember(row.member) : row.member;
      pipeline.hmget(keys.task(id), ...LIST_FIELDS);
    }
    const replies = rows.length === 0 ? [] : ((await pipeline.exec()) ?? []);
    for (const [i, row] of rows.entries()) {
      state.budget--;
      const [error, values] = replies[i] ?? [null, null];
      if (error) throw error;
      const fields = listFieldMap((values as (string | null)[] | null) ?? []);
      // A member whose hash is gone (evicted between the two reads) is skipped.
      if (fields.has("status")) {
        const task = parseTask(fields, "list");
        if (accept(task)) state.found.push(task);
      }
      if (state.found.length >= state.limit || state.budget <= 0) return row;
    }
    if (flat.length < BATCH * 2) return undefined;
    offset += flat.length / 2;
  }
}

/** Ready depth of every queue ever used, by name. */
export async function queueDepths(redis: RedisClient, keys: KeySpace): Promise<QueueDepth[]> {
  const names = (await redis.smembers(keys.queues)).sort();
  if (names.length === 0) return [];
  const pipeline = redis.pipeline();
  for (const name of names) pipeline.zcard(keys.ready(name));
  const replies = (await pipeline.exec()) ?? [];
  return names.map((name, i) => ({ name, depth: Number(replies[i]?.[1] ?? 0) }));
}

/** Counts over all queues. */
export async function countAll(redis: RedisClient, keys: KeySpace): Promise<StoreCounts> {
  const replies =
    (await redis
      .pipeline()
      .zcard(keys.delayed)
      .zcard(keys.leases)
      .zcard(keys.dlq)
      .zcard(keys.finished)
      .exec()) ?? [];
  const at = (i: number) => Number(replies[i]?.[1] ?? 0);
  return { delayed: at(0), running: at(1), deadLetters: at(2), finished: at(3) };
}

/** Whether `row` comes after `after` in the walk (ascending, or descending when `newest`). */
function isAfter(row: Position, after: Position, newest: boolean): boolean {
  const score = Number(row.score);
  const afterScore = Number(after.score);
  if (newest) return score < afterScore || (score === afterScore && row.member < after.member);
  return score > afterScore || (score === afterScore && row.member > after.member);
}

/** `[source, score, member]`, with a fourth `"n"` for a newest-first walk. */
function encodeCursor(source: string, position: Position, newest: boolean): string {
  const parts = [source, position.score, position.member, ...(newest ? ["n"] : [])];
  return Buffer.from(JSON.stringify(parts)).toString("base64url");
}

function decodeCursor(
  cursor: string | undefined,
  newest: boolean,
): { readonly source: string; readonly position: Position } | undefined {
  if (cursor === undefined) return undefined;
  let parsed: unknown;
  try {
    parsed = JSON.parse(Buffer.from(String(cursor), "base64url").toString("utf8"));
  } catch {
    // Falls through to the error below.
  }
  if (
    Array.isArray(parsed) &&
    (parsed.length === 3 || (parsed.length === 4 && parsed[3] === "n"))
  ) {
    const [source, score, member] = parsed as unknown[];
    if (typeof source === "string" && typeof score === "string" && typeof member === "string") {
      if ((parsed.length === 4) !== newest) throw wrongOrder(cursor);
      return { source, position: { score, member } };
    }
  }
  throw new InvalidArgumentError("cursor", "must be a nextCursor returned by list()", cursor);
}
