--[[
  Stores a running task's progress (the value its handler last reported), fenced like ack and
  renew: refused (nothing changes) unless the caller holds the current lease. The value stays
  on the task after it ends (get shows the last one) and across retries until the next attempt
  reports its own; it goes when the task's record is evicted.

  KEYS[1] task hash            {p}:t:<id>

  ARGV[1] fencing token
  ARGV[2] progress JSON ("" = clears it)

  Returns 1 when stored, or a lease refusal code (-1..-4, see includes/lease.lua).
]]
-- @include lease

local refused = checkLease(KEYS[1], ARGV[1])
if refused then
  return refused
end
redis.call("HSET", KEYS[1], "progress", ARGV[2])
return 1
