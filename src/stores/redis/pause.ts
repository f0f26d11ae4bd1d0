/**
 * Shared pause on Redis: the set `{p}:paused` holds the queues paused for every process; the
 * claim script reads it in the same atomic step that leases (see `lua/claim-N.lua`), so no
 * separate read can race a pause.
 */

import { InvalidArgumentError } from "../../errors.js";
import { isName } from "../../validation.js";
import type { RedisClient } from "./client.js";
import type { KeySpace } from "./keys.js";

/**
 * Pauses or resumes `queue`. A resume also leaves one wake-up token on the queue's marker (a
 * list kept at one element, as `wake.lua` does), in the same MULTI: workers blocked on it claim
 * at once instead of at their next idle timeout.
 */
export async function setPaused(
  redis: RedisClient,
  keys: KeySpace,
  queue: string,
  paused: boolean,
): Promise<void> {
  if (!isName(queue)) throw new InvalidArgumentError("queue", "must be a queue name", queue);
  if (typeof paused !== "boolean")
    throw new InvalidArgumentError("paused", "must be a boolean", paused);
  const multi = redis.multi();
  if (paused) multi.sadd(keys.paused, queue);
  else
    multi.srem(keys.paused, queue).lpush(keys.marker(queue), "1").ltrim(keys.marker(queue), 0, 0);
  const replies = await multi.exec();
  const failed = replies?.find(([error]) => error !== null)?.[0];
  if (failed) throw failed;
}

/** The queues paused in the store, sorted by name. */
export async function pausedQueues(redis: RedisClient, keys: KeySpace): Promise<string[]> {
  return (await redis.smembers(keys.paused)).sort();
}
