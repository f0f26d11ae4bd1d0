/**
 * Reading the events stream: one entry per terminal transition, retry, reclaim and replay,
 * written by the scripts in the same step as the change itself, so a reader that starts
 * before a task finishes cannot miss its result.
 */

import { InvalidArgumentError } from "../../errors.js";
import { requireInteger } from "../../validation.js";
import type { TaskEvent } from "../durable-types.js";
import type { RedisClient } from "./client.js";
import { parseEvent } from "./codec.js";
import { UnexpectedReplyError } from "./errors.js";

/** Options of {@link readEvents}. */
export interface ReadEventsOptions {
  /** Most entries returned. @default 100 */
  readonly count?: number;
  /**
   * Block up to this long for new entries when none are there yet (0 = do not block).
   * Blocking ties up the connection: use a dedicated one.
   */
  readonly blockMs?: number;
}

/**
 * Entries of the stream at `key` after stream id `after` (`"0"`: from the oldest kept; `"$"`:
 * only entries added while blocking). Resolves with `[]` when nothing came.
 */
export async function readEvents(
  redis: RedisClient,
  key: string,
  after: string,
  options: ReadEventsOptions = {},
): Promise<TaskEvent[]> {
  const count = options.count ?? 100;
  requireInteger("count", count, 1);
  const blockMs = options.blockMs ?? 0;
  requireInteger("blockMs", blockMs, 0);
  if (typeof after !== "string" || after.length === 0)
    throw new InvalidArgumentError("after", 'must be a stream id, "0" or "$"', after);
  const block = blockMs > 0 ? ["BLOCK", blockMs] : [];
  const reply = await redis.call("XREAD", "COUNT", count, ...block, "STREAMS", key, after);
  if (reply === null) return [];
  // [[key, [[id, [field, value, ...]], ...]]]
  if (!Array.isArray(reply) || !Array.isArray(reply[0]) || !Array.isArray(reply[0][1]))
    throw new UnexpectedReplyError("events", reply);
  return (reply[0][1] as unknown[]).map(parseEvent);
}
