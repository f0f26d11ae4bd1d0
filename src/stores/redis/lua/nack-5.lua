--[[
  Schedules a retry of a running task: status retrying, due at runAt, last error kept, a
  "retrying" event. Refused (nothing changes) unless the caller holds the current lease.
  A nack is an outcome, so the task's consecutive-delivery count starts over.

  KEYS[1] task hash            {p}:t:<id>
  KEYS[2] leases zset          {p}:leases
  KEYS[3] delayed zset         {p}:delayed
  KEYS[4] events stream        {p}:events
  KEYS[5] marker list          {p}:q:<queue>:marker  (of the task's queue)

  ARGV[1] id
  ARGV[2] fencing token
  ARGV[3] delayMs ("" = use ARGV[4]), relative to Redis time
  ARGV[4] runAt epoch ms ("" = use ARGV[3])
  ARGV[5] error JSON
  ARGV[6] events MAXLEN ~

  Returns the due time (ms, > 0; the first one again for a repeated nack under the same
  token), or a lease refusal code (-1..-4, see includes/lease.lua).
]]
-- @include time
-- @include lease
-- @include event
-- @include wake

local taskKey, id = KEYS[1], ARGV[1]
local refused = checkLease(taskKey, ARGV[2], "nack")
if refused then
  return refused
end
local now = nowMs()
local runAt = tonumber(ARGV[4]) or (now + (tonumber(ARGV[3]) or 0))
redis.call("HSET", taskKey, "status", "retrying", "runAt", runAt, "error", ARGV[5], "deliveries", 0)
redis.call("HDEL", taskKey, "leaseUntil")
recordOutcome(taskKey, "nack", runAt)
redis.call("ZREM", KEYS[2], id)
redis.call("ZADD", KEYS[3], runAt, id)
emitEvent(KEYS[4], ARGV[6], taskKey, "retrying", digits(now), "error", ARGV[5], "runAt", digits(runAt))
-- Blocked workers size their sleep by the earliest due time; this one may be earlier.
wake(KEYS[5])
return runAt
