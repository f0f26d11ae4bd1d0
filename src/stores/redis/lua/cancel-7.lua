--[[
  Cancels a task. Waiting (queued, scheduled, retrying, or a flow's node waiting for its
  dependencies) tasks leave their ready or delayed zset
  at once. A running task becomes cancelled and leaves the leases zset: its worker's ack,
  nack, fail and renew are refused from now on (code -3), and it learns of the cancellation
  from the "cancelled" event or its next renewal. Terminal tasks are left alone.

  KEYS[1] task hash            {p}:t:<id>
  KEYS[2] ready zset           {p}:q:<queue>:ready  (of the task's queue, read beforehand:
                                                     a task's queue never changes)
  KEYS[3] delayed zset         {p}:delayed
  KEYS[4] leases zset          {p}:leases
  KEYS[5] finished zset        {p}:finished
  KEYS[6] events stream        {p}:events
  KEYS[7] key stem             {p}:  (derives the hashes and idempotency keys of evicted
                                      finished tasks; same hash tag)

  ARGV[1] id
  ARGV[2] queue the caller read (checked against the hash)
  ARGV[3] error JSON recorded as the task's error
  ARGV[4] finished: ttlMs (0 = none)
  ARGV[5] finished: maxEntries (-1 = none)
  ARGV[6] events MAXLEN ~
  ARGV[7] trim budget per call

  Returns:
     1  a waiting task was cancelled
     2  a running task was cancelled (its worker still runs until it learns)
     0  the task had already finished: nothing changed
    -1  no such task
    -5  the task's queue is not ARGV[2] (the id was reused): read again and retry
]]
-- @include time
-- @include event
-- @include evict
-- @include flow

local taskKey, id = KEYS[1], ARGV[1]
local f = redis.call("HMGET", taskKey, "status", "queue", "rm")
local status = f[1]
if not status then
  return -1
end
if f[2] ~= ARGV[2] then
  return -5
end
local outcome
if status == "queued" or status == "scheduled" or status == "retrying" or status == "waiting" then
  if f[3] then
    redis.call("ZREM", KEYS[2], f[3])
  end
  redis.call("ZREM", KEYS[3], id)
  outcome = 1
elseif status == "running" then
  redis.call("ZREM", KEYS[4], id)
  outcome = 2
else
  return 0
end
local now, nowUs = clock()
local at = digits(now)
redis.call("HSET", taskKey, "status", "cancelled", "finishedAt", at, "error", ARGV[3])
redis.call("HDEL", taskKey, "rm", "runAt", "leaseUntil")
redis.call("ZADD", KEYS[5], digits(nowUs), id)
emitEvent(KEYS[6], ARGV[6], taskKey, "cancelled", at, "error", ARGV[3], "finishedAt", at)
-- A flow's node: its dependents are resolved in this same step.
flowNodeEnded(KEYS[7], ARGV[6], id, now, nowUs)
trimSet(KEYS[5], KEYS[7], nowUs, tonumber(ARGV[4]), tonumber(ARGV[5]), tonumber(ARGV[7]))
return outcome
