--[[
  Fails a running task for good: status failed, into the dead-letter queue with its last
  error, a "failed" event, dead letters trimmed. Refused (nothing changes) unless the caller
  holds the current lease.

  KEYS[1] task hash            {p}:t:<id>
  KEYS[2] leases zset          {p}:leases
  KEYS[3] dead-letter zset     {p}:dlq
  KEYS[4] events stream        {p}:events
  KEYS[5] key stem             {p}:  (derives the hashes and idempotency keys of evicted dead
                                      letters; same hash tag)

  ARGV[1] id
  ARGV[2] fencing token
  ARGV[3] error JSON
  ARGV[4] dead letters: ttlMs (0 = none)
  ARGV[5] dead letters: maxEntries (-1 = none)
  ARGV[6] events MAXLEN ~
  ARGV[7] trim budget per call

  Returns finishedAt (ms, > 0; the first one again for a repeated fail under the same token),
  or a lease refusal code (-1..-4, see includes/lease.lua).
]]
-- @include time
-- @include lease
-- @include dead-letter
-- @include evict

local taskKey, id = KEYS[1], ARGV[1]
local refused = checkLease(taskKey, ARGV[2], "fail")
if refused then
  return refused
end
local now, nowUs = clock()
redis.call("ZREM", KEYS[2], id)
recordOutcome(taskKey, "fail", now)
deadLetter(KEYS[3], KEYS[4], ARGV[6], taskKey, id, now, nowUs, ARGV[3])
trimSet(KEYS[3], KEYS[5], nowUs, tonumber(ARGV[4]), tonumber(ARGV[5]), tonumber(ARGV[7]))
return now
