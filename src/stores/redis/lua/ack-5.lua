--[[
  Completes a running task: succeeded, result stored, a "succeeded" event, finished records
  trimmed. Refused (nothing changes) unless the caller holds the current lease. (A worker acks
  in batches through the claim script, which shares this logic: includes/complete.lua.)

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
-- @include evict
-- @include complete

local now, nowUs = clock()
local done = {}
local result = complete(KEYS[5], KEYS[4], ARGV[6], ARGV[1], ARGV[2], ARGV[3], now, digits(now), done)
finishCompleted(KEYS[2], KEYS[3], KEYS[5], done, nowUs, tonumber(ARGV[4]), tonumber(ARGV[5]),
  tonumber(ARGV[7]))
return result
