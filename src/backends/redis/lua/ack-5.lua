--[[
  Completes a running task: succeeded, result stored, a "succeeded" event, finished records
  trimmed. Refused (nothing changes) unless the caller holds the current lease.

  KEYS[1] task hash            {p}:t:<id>
  KEYS[2] leases zset          {p}:leases
  KEYS[3] finished zset        {p}:finished
  KEYS[4] events stream        {p}:events
  KEYS[5] key stem             {p}:  (derives the hashes and idempotency keys of evicted
                                      finished tasks; same hash tag)

  ARGV[1] id
  ARGV[2] fencing token
  ARGV[3] result JSON ("" = undefined)
  ARGV[4] finished: ttlMs (0 = none)
  ARGV[5] finished: maxEntries (-1 = none)
  ARGV[6] events MAXLEN ~
  ARGV[7] trim budget per call

  Returns finishedAt (ms, > 0; the first one again for a repeated ack under the same token),
  or a lease refusal code (-1..-4, see includes/lease.lua).
]]
-- @include time
-- @include lease
-- @include event
-- @include evict

local taskKey, id = KEYS[1], ARGV[1]
local refused = checkLease(taskKey, ARGV[2], "ack")
if refused then
  return refused
end
local now, nowUs = clock()
redis.call("HSET", taskKey, "status", "succeeded", "finishedAt", now)
recordOutcome(taskKey, "ack", now)
redis.call("HDEL", taskKey, "leaseUntil", "error")
local extra = { "finishedAt", tostring(now) }
if ARGV[3] ~= "" then
  redis.call("HSET", taskKey, "value", ARGV[3])
  extra[3], extra[4] = "value", ARGV[3]
end
redis.call("ZREM", KEYS[2], id)
redis.call("ZADD", KEYS[3], nowUs, id)
emitEvent(KEYS[4], ARGV[6], taskKey, "succeeded", now, extra)
trimSet(KEYS[3], KEYS[5], nowUs, tonumber(ARGV[4]), tonumber(ARGV[5]), tonumber(ARGV[7]))
return now
