/**
 * `list` and `dlq.list` over every shard: the same sources in the same order as the
 * single-tag store (`../queries.ts`: each queue's ready tasks in queue-name order, then
 * delayed, running, dead letters, finished), each source's zsets of all shards merged by
 * (score, member, shard). The cursor holds the source it stopped in and the last entry taken
 * from each shard there, so paging neither skips nor repeats an entry.
 */

import { InvalidArgumentError } from "../../../errors.js";
import { wrongOrder } from "../../../list-order.js";
import type { StoredTask, StoredTaskPage } from "../../durable-types.js";
import type { RedisClient } from "../client.js";
import { LIST_FIELDS, listFieldMap, parseTask } from "../codec.js";
import { idFromReadyMember } from "../keys.js";
import type { RedisStore } from "../redis-store.js";

/** One shard's zset in a merged source. */
export interface Participant {
  readonly shard: RedisStore;
  readonly key: string;
}

/** A logical source: one zset per shard, merged. */
export interface MergedSource {
  /** Stable id written into cursors. */
  readonly id: string;
  /** True for ready zsets, whose members are `<seq>:<id>`. */
  readonly ready: boolean;
  readonly participants: readonly Participant[];
}

interface Position {
  readonly score: string;
  readonly member: string;
}

/** Where a walk stopped: a source and the last entry taken from each shard. */
interface MergedCursor {
  readonly source: string;
  readonly positions: Readonly<Record<string, Position>>;
}

const BATCH = 100;

/** A participant's walk state. */
class Lane {
  readonly buffer: Position[] = [];
  #offset = 0;
  #skipUpTo: Position | undefined;
  #done = false;
  last: Position | undefined;

  constructor(
    readonly participant: Participant,
    readonly newest: boolean,
    after: Position | undefined,
  ) {
    this.last = after;
  }

  get name(): string {
    return this.participant.shard.keys.prefix;
  }

  get #redis(): RedisClient {
    return this.participant.shard.redis;
  }

  /** Finds where to resume: after the cursor's entry, or after its score if it moved on. */
  async start(): Promise<void> {
    const after = this.last;
    if (after === undefined) return;
    const { key } = this.participant;
    const rank = await (this.newest
      ? this.#redis.zrevrank(key, after.member)
      : this.#redis.zrank(key, after.member));
    if (rank !== null) this.#offset = rank + 1;
    else {
      this.#offset = await (this.newest
        ? this.#redis.zcount(key, `(${after.score}`, "+inf")
        : this.#redis.zcount(key, "-inf", `(${after.score}`));
      this.#skipUpTo = after;
    }
  }

  /** The next entry, fetching a batch when the buffer is empty; `undefined` at the end. */
  async peek(): Promise<Position | undefined> {
    while (this.buffer.length === 0 && !this.#done) {
      const { key } = this.participant;
      const stop = this.#offset + BATCH - 1;
      const flat = await (this.newest
        ? this.#redis.zrevrange(key, this.#offset, stop, "WITHSCORES")
        : this.#redis.zrange(key, this.#offset, stop, "WITHSCORES"));
      this.#offset += flat.length / 2;
      if (flat.length < BATCH * 2) this.#done = true;
      for (let i = 0; i + 1 < flat.length; i += 2) {
        const row = { member: flat[i] as string, score: flat[i + 1] as string };
        if (this.#skipUpTo !== undefined && !isAfter(row, this.#skipUpTo, this.newest)) continue;
        this.buffer.push(row);
      }
    }
    return this.buffer[0];
  }
}

/**
 * Walks `forward` (reversed when `newest`) from `cursor`, collecting up to `limit` tasks that
 * `accept`, examining at most `max(1000, 10 * limit)` entries.
 */
export async function walkMerged(
  forward: readonly MergedSource[],
  cursor: string | undefined,
  limit: number,
  accept: (task: StoredTask) => boolean,
  newest: boolean,
): Promise<StoredTaskPage> {
  const sources = newest ? [...forward].reverse() : forward;
  const start = decodeCursor(cursor, newest);
  let index = 0;
  if (start !== undefined) {
    index = sources.findIndex((source) => source.id === start.source);
    if (index < 0)
      throw new InvalidArgumentError("cursor", "does not belong to this listing's filters", cursor);
  }
  const found: StoredTask[] = [];
  let budget = Math.max(1_000, limit * 10);
  for (; index < sources.length; index++) {
    const source = sources[index] as MergedSource;
    const resume = start?.source === source.id ? start.positions : {};
    const lanes = source.participants.map(
      (participant) => new Lane(participant, newest, resume[participant.shard.keys.prefix]),
    );
    await Promise.all(lanes.map((lane) => lane.start()));
    for (;;) {
      const lane = await nextLane(lanes, newest);
      if (lane === undefined) break;
      const row = lane.buffer.shift() as Position;
      lane.last = row;
      budget--;
      const id = source.ready ? idFromReadyMember(row.member) : row.member;
      const values = await lane.participant.shard.redis.hmget(
        lane.participant.shard.keys.task(id),
        ...LIST_FIELDS,
      );
      const fields = listFieldMap(values);
      // A member whose hash is gone (evicted between the two reads) is skipped.
      if (fields.has("status")) {
        const task = parseTask(fields, "list");
        if (accept(task)) found.push(task);
      }
      if (found.length >= limit || budget <= 0) {
        const positions: Record<string, Position> = {};
        for (const each of lanes) if (each.last !== undefined) positions[each.name] = each.last;
        return { tasks: found, nextCursor: encodeCursor({ source: source.id, positions }, newest) };
      }
    }
  }
  return { tasks: found };
}

/** The lane whose next entry comes first (by score, member, then shard name). */
async function nextLane(lanes: readonly Lane[], newest: boolean): Promise<Lane | undefined> {
  const heads = await Promise.all(lanes.map((lane) => lane.peek()));
  let best: number | undefined;
  heads.forEach((head, i) => {
    if (head === undefined) return;
    if (best === undefined) {
      best = i;
      return;
    }
    const current = heads[best] as Position;
    if (comesBefore(head, lanes[i] as Lane, current, lanes[best] as Lane, newest)) best = i;
  });
  return best === undefined ? undefined : lanes[best];
}

function comesBefore(a: Position, laneA: Lane, b: Position, laneB: Lane, newest: boolean) {
  const sa = Number(a.score);
  const sb = Number(b.score);
  const order =
    sa !== sb
      ? sa - sb
      : a.member !== b.member
        ? a.member < b.member
          ? -1
          : 1
        : laneA.name < laneB.name
          ? -1
          : 1;
  return newest ? order > 0 : order < 0;
}

/** Whether `row` comes after `after` in one zset's walk. */
function isAfter(row: Position, after: Position, newest: boolean): boolean {
  const score = Number(row.score);
  const afterScore = Number(after.score);
  if (newest) return score < afterScore || (score === afterScore && row.member < after.member);
  return score > afterScore || (score === afterScore && row.member > after.member);
}

/** `["m", source, positions]`, with a fourth `"n"` for a newest-first walk. */
function encodeCursor(cursor: MergedCursor, newest: boolean): string {
  const parts = ["m", cursor.source, cursor.positions, ...(newest ? ["n"] : [])];
  return Buffer.from(JSON.stringify(parts)).toString("base64url");
}

function decodeCursor(cursor: string | undefined, newest: boolean): MergedCursor | undefined {
  if (cursor === undefined) return undefined;
  let parsed: unknown;
  try {
    parsed = JSON.parse(Buffer.from(String(cursor), "base64url").toString("utf8"));
  } catch {
    // Falls through to the error below.
  }
  if (
    Array.isArray(parsed) &&
    parsed[0] === "m" &&
    (parsed.length === 3 || (parsed.length === 4 && parsed[3] === "n"))
  ) {
    const [, source, positions] = parsed as unknown[];
    if (typeof source === "string" && isPositions(positions)) {
      if ((parsed.length === 4) !== newest) throw wrongOrder(cursor);
      return { source, positions };
    }
  }
  throw new InvalidArgumentError("cursor", "must be a nextCursor returned by list()", cursor);
}

function isPositions(value: unknown): value is Record<string, Position> {
  if (typeof value !== "object" || value === null || Array.isArray(value)) return false;
  return Object.values(value).every(
    (position) =>
      typeof position === "object" &&
      position !== null &&
      typeof (position as Position).score === "string" &&
      typeof (position as Position).member === "string",
  );
}
