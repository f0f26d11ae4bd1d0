/**
 * The worker registry and shared schedules on Redis (keys in `keys.ts`): `{p}:workers` (hash:
 * id -> report JSON) with `{p}:workers:hb` (zset: id -> the Redis time of its last heartbeat),
 * and `{p}:schedules` (hash: id -> schedule JSON) with `{p}:schedules:paused` (set of ids).
 * Heartbeats are stamped with Redis time (never a worker's clock) in a small script, which
 * also drops workers silent for longer than the bound.
 */

import {
  decodeSchedule,
  decodeWorker,
  encodeSchedule,
  encodeWorker,
  requireDropAfter,
  requireScheduleId,
} from "../fleet-codec.js";
import type { StoredSchedule, StoredWorker, WorkerReport } from "../fleet-types.js";
import type { RedisClient } from "./client.js";
import type { KeySpace } from "./keys.js";

/** KEYS: workers hash, heartbeat zset. ARGV: dropAfterMs, then id and report (or none). */
const HEARTBEAT = `
local t = redis.call("TIME")
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local gone = redis.call("ZRANGEBYSCORE", KEYS[2], "-inf", "(" .. (now - tonumber(ARGV[1])))
for _, id in ipairs(gone) do
  redis.call("HDEL", KEYS[1], id)
  redis.call("ZREM", KEYS[2], id)
end
if ARGV[2] then
  redis.call("HSET", KEYS[1], ARGV[2], ARGV[3])
  redis.call("ZADD", KEYS[2], now, ARGV[2])
  return { now }
end
local out = { now }
local ids = redis.call("ZRANGE", KEYS[2], 0, -1, "WITHSCORES")
for i = 1, #ids, 2 do
  out[#out + 1] = ids[i]
  out[#out + 1] = ids[i + 1]
  out[#out + 1] = redis.call("HGET", KEYS[1], ids[i]) or "{}"
end
return out
`;

/** KEYS: schedules hash, paused set. ARGV: id, "1" to pause / "0" to resume. */
const SCHEDULE_PAUSE = `
if redis.call("HEXISTS", KEYS[1], ARGV[1]) == 0 then return 0 end
if ARGV[2] == "1" then redis.call("SADD", KEYS[2], ARGV[1]) else redis.call("SREM", KEYS[2], ARGV[1]) end
return 1
`;

export async function heartbeat(
  redis: RedisClient,
  k: KeySpace,
  worker: WorkerReport,
  dropAfterMs: number,
): Promise<number> {
  requireDropAfter(dropAfterMs);
  const text = encodeWorker(worker);
  const reply = (await redis.eval(
    HEARTBEAT,
    2,
    k.workers,
    k.workerBeats,
    dropAfterMs,
    worker.id,
    text,
  )) as number[];
  return Number(reply[0]);
}

export async function removeWorker(redis: RedisClient, k: KeySpace, id: string): Promise<void> {
  await redis.multi().hdel(k.workers, id).zrem(k.workerBeats, id).exec();
}

export async function listWorkers(
  redis: RedisClient,
  k: KeySpace,
  dropAfterMs: number,
): Promise<{ now: number; workers: StoredWorker[] }> {
  requireDropAfter(dropAfterMs);
  const reply = (await redis.eval(HEARTBEAT, 2, k.workers, k.workerBeats, dropAfterMs)) as Array<
    string | number
  >;
  const workers: StoredWorker[] = [];
  for (let i = 1; i + 2 < reply.length; i += 3)
    workers.push(decodeWorker(String(reply[i + 2]), Number(reply[i + 1])));
  workers.sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
  return { now: Number(reply[0]), workers };
}

export async function saveSchedule(
  redis: RedisClient,
  k: KeySpace,
  schedule: StoredSchedule,
): Promise<void> {
  const text = encodeSchedule(schedule);
  await redis
    .multi()
    .hset(k.schedules, schedule.id, text)
    .srem(k.pausedSchedules, schedule.id)
    .exec();
}

export async function deleteSchedule(
  redis: RedisClient,
  k: KeySpace,
  id: string,
): Promise<boolean> {
  requireScheduleId(id);
  const replies = await redis.multi().hdel(k.schedules, id).srem(k.pausedSchedules, id).exec();
  return Number(replies?.[0]?.[1]) > 0;
}

export async function setSchedulePaused(
  redis: RedisClient,
  k: KeySpace,
  id: string,
  paused: boolean,
): Promise<boolean> {
  requireScheduleId(id);
  const reply = await redis.eval(
    SCHEDULE_PAUSE,
    2,
    k.schedules,
    k.pausedSchedules,
    id,
    paused ? "1" : "0",
  );
  return Number(reply) === 1;
}

export async function listSchedules(redis: RedisClient, k: KeySpace): Promise<StoredSchedule[]> {
  const [all, paused] = await Promise.all([
    redis.hgetall(k.schedules),
    redis.smembers(k.pausedSchedules),
  ]);
  const held = new Set(paused);
  return Object.keys(all)
    .sort()
    .map((id) => decodeSchedule(all[id] as string, held.has(id)));
}
