--[[
  Extends the lease of a running task. Refused (nothing changes) unless the caller holds the
  current lease; a refusal tells the worker to stop the handler.

  KEYS[1] task hash            {p}:t:<id>
  KEYS[2] leases zset          {p}:leases

  ARGV[1] id
  ARGV[2] fencing token
  ARGV[3] leaseMs, from Redis time now

  Returns the new lease expiry (ms, > 0), or a lease refusal code (-1..-4, see
  includes/lease.lua).
]]
-- @include time
-- @include lease

local refused = checkLease(KEYS[1], ARGV[2])
if refused then
  return refused
end
local leaseUntil = nowMs() + tonumber(ARGV[3])
redis.call("HSET", KEYS[1], "leaseUntil", leaseUntil)
redis.call("ZADD", KEYS[2], leaseUntil, ARGV[1])
return leaseUntil
