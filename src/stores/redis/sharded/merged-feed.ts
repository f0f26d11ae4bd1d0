/**
 * The events feed over every shard: each shard keeps its own stream (written in the same step
 * as the change, as in the single-tag store); a feed position here is a vector of every shard's
 * stream position, so a reader resumes each stream exactly where it stopped. Events read
 * together are merged by stream id, and each carries the vector as it stands after it.
 *
 * A position is `v2.<base64url JSON { d, p }>`: `p` maps shard prefixes to stream ids, `d` is
 * the position of every shard not named (`"0"`: a shard created later is read from its
 * start). A plain stream id (or `"0"`) is accepted too, as the position of every shard.
 */

import { isStreamId } from "../../../results/stream-id.js";
import { requireInteger } from "../../../validation.js";
import type { EventReader } from "../../durable-store.js";
import type { TaskEvent } from "../../durable-types.js";
import type { RedisClient } from "../client.js";
import { parseEvent } from "../codec.js";
import { UnexpectedReplyError } from "../errors.js";
import type { RedisStore } from "../redis-store.js";
import type { ShardSet } from "./shard-set.js";

/** Every shard's stream position. */
interface FeedVector {
  readonly d: string;
  readonly p: Readonly<Record<string, string>>;
}

const TAG = "v2.";

/** Whether `value` is a position of the sharded feed (or a plain stream id). */
export function isShardedFeedPosition(value: unknown): value is string {
  return decodePosition(value) !== undefined;
}

function decodePosition(value: unknown): FeedVector | undefined {
  if (isStreamId(value)) return { d: value, p: {} };
  if (typeof value !== "string" || !value.startsWith(TAG)) return undefined;
  try {
    const parsed = JSON.parse(Buffer.from(value.slice(TAG.length), "base64url").toString("utf8"));
    if (typeof parsed !== "object" || parsed === null || !isStreamId(parsed.d)) return undefined;
    const p = parsed.p as unknown;
    if (typeof p !== "object" || p === null || Array.isArray(p)) return undefined;
    if (!Object.values(p).every(isStreamId)) return undefined;
    return { d: parsed.d, p: p as Record<string, string> };
  } catch {
    return undefined;
  }
}

function encodePosition(vector: FeedVector): string {
  return TAG + Buffer.from(JSON.stringify(vector)).toString("base64url");
}

/** Position of a shard in `vector`. */
function positionOf(vector: FeedVector, shard: RedisStore): string {
  return vector.p[shard.keys.prefix] ?? vector.d;
}

/** Stream id order: milliseconds, then sequence. */
function compareIds(a: string, b: string): number {
  const [am = "0", as = "0"] = a.split("-");
  const [bm = "0", bs = "0"] = b.split("-");
  return Number(am) - Number(bm) || Number(as) - Number(bs);
}

/**
 * Merges per-shard events (each list in stream order) into one list by stream id, at most
 * `count`, each stamped with the vector after it.
 */
function merge(
  vector: FeedVector,
  perShard: ReadonlyArray<{ readonly shard: RedisStore; readonly events: TaskEvent[] }>,
  count: number,
): TaskEvent[] {
  const all = perShard.flatMap(({ shard, events }) =>
    events.map((event) => ({ prefix: shard.keys.prefix, event })),
  );
  all.sort(
    (a, b) => compareIds(a.event.streamId, b.event.streamId) || (a.prefix < b.prefix ? -1 : 1),
  );
  const positions: Record<string, string> = { ...vector.p };
  return all.slice(0, count).map(({ prefix, event }) => {
    positions[prefix] = event.streamId;
    return { ...event, streamId: encodePosition({ d: vector.d, p: { ...positions } }) };
  });
}

/** Up to `count` events after position `after`, from every shard, without blocking. */
export async function readMergedFeed(
  shards: ShardSet,
  after: string,
  count: number,
): Promise<TaskEvent[]> {
  requireInteger("count", count, 1);
  const vector = decodePosition(after);
  if (vector === undefined) return shards.control.readFeed(after, count); // refuses it
  const all = await shards.all();
  const perShard = await Promise.all(
    all.map(async (shard) => ({
      shard,
      events: await shard.readFeed(positionOf(vector, shard), count),
    })),
  );
  return merge(vector, perShard, count);
}

/** Polling interval of a blocking read on a Redis Cluster (one blocking XREAD per slot would need a connection each). */
const CLUSTER_POLL_MS = 50;

/** A blocking reader of every shard's stream, on its own connection. */
export class MergedFeedReader implements EventReader {
  readonly #shards: ShardSet;
  readonly #connection: RedisClient;
  #closed = false;

  /** @param connection owned: closed by `close()` */
  constructor(shards: ShardSet, connection: RedisClient) {
    this.#shards = shards;
    this.#connection = connection;
    connection.on("error", () => {}); // surfaced as failed reads, retried by the reader
  }

  async end(): Promise<string> {
    const all = await this.#shards.all();
    const p: Record<string, string> = {};
    await Promise.all(
      all.map(async (shard) => {
        const last = (await this.#connection.call(
          "XREVRANGE",
          shard.keys.events,
          "+",
          "-",
          "COUNT",
          1,
        )) as Array<[string, unknown]> | null;
        p[shard.keys.prefix] = last?.[0]?.[0] ?? "0";
      }),
    );
    return encodePosition({ d: "0", p });
  }

  async read(after: string, count: number, blockMs: number): Promise<TaskEvent[]> {
    const ready = await readMergedFeed(this.#shards, after, count);
    if (ready.length > 0 || blockMs <= 0 || this.#closed) return ready;
    const vector = decodePosition(after) as FeedVector;
    const all = await this.#shards.all();
    if (all.length === 0 || (this.#connection as { isCluster?: boolean }).isCluster === true) {
      await new Promise((resolve) => setTimeout(resolve, Math.min(blockMs, CLUSTER_POLL_MS)));
      return this.#closed ? [] : readMergedFeed(this.#shards, after, count);
    }
    // One node: one XREAD blocks on every shard's stream at once, and on the registry's log,
    // whose entry says a new shard appeared: read again, it included.
    const log = this.#shards.registry.keys.placementLog;
    const reply = await this.#connection.call(
      "XREAD",
      "COUNT",
      count,
      "BLOCK",
      blockMs,
      "STREAMS",
      ...all.map((shard) => shard.keys.events),
      log,
      ...all.map((shard) => positionOf(vector, shard)),
      "$",
    );
    if (reply === null) return [];
    if (!Array.isArray(reply)) throw new UnexpectedReplyError("events", reply);
    const byKey = new Map(all.map((shard) => [shard.keys.events, shard]));
    const perShard = [];
    for (const entry of reply as unknown[]) {
      if (!Array.isArray(entry) || !Array.isArray(entry[1]))
        throw new UnexpectedReplyError("events", reply);
      if (entry[0] === log) return readMergedFeed(this.#shards, after, count);
      const shard = byKey.get(entry[0] as string);
      if (shard === undefined) throw new UnexpectedReplyError("events", reply);
      perShard.push({ shard, events: (entry[1] as unknown[]).map(parseEvent) });
    }
    return merge(vector, perShard, count);
  }

  close(): void {
    this.#closed = true;
    this.#connection.disconnect();
  }
}
