--[[
  Reclaims tasks whose lease expired (the worker crashed, was killed, or blocked its event loop
  past the lease): each goes back to its ready queue as "retrying" with a "retrying" event, in
  the place it had (its ready member, kept in the hash as rm since it was claimed: a crashed
  worker's task runs before the tasks submitted after it), or, once delivered maxDeliveries
  times without an outcome, to the dead-letter queue as poison.
  The expired worker's token stays stale for good: its late ack, nack, fail or renew is refused.

  KEYS[1] leases zset          {p}:leases
  KEYS[2] dead-letter zset     {p}:dlq
  KEYS[3] events stream        {p}:events
  KEYS[4] sequence counter     {p}:seq
  KEYS[5] key stem             {p}:  (derives {p}:t:<id> and the ready/marker keys of each
                                      task's queue, and evicted dead letters; same hash tag)

  ARGV[1] maxDeliveries (0 = unlimited)
  ARGV[2] batch: most leases handled per call
  ARGV[3] events MAXLEN ~
  ARGV[4] dead letters: ttlMs (0 = none)
  ARGV[5] dead letters: maxEntries (-1 = none)
  ARGV[6] trim budget per call

  Returns { reclaimed, poisoned, more, nextExpiry }: more is 1 when the batch was full (call
  again); nextExpiry is the ms until the earliest remaining lease expires (Redis time), -1 when
  no lease is held, so the reaper can come back exactly then.
]]
-- @include time
-- @include ready
-- @include wake
-- @include dead-letter
-- @include evict

local leasesKey, dlqKey, eventsKey, seqKey, base = KEYS[1], KEYS[2], KEYS[3], KEYS[4], KEYS[5]
local maxDeliveries = tonumber(ARGV[1])
local batch = tonumber(ARGV[2])
local maxLen = ARGV[3]
local now, nowUs = clock()
local lapsed = cjson.encode({
  name = "LeaseExpiredError", code = "ERR_LEASE_EXPIRED",
  message = "The worker's lease expired before it reported an outcome",
})

local ids = redis.call("ZRANGEBYSCORE", leasesKey, "-inf", now, "LIMIT", 0, batch)
local reclaimed, poisoned = 0, 0
for _, id in ipairs(ids) do
  redis.call("ZREM", leasesKey, id)
  local taskKey = base .. "t:" .. id
  local f = redis.call("HMGET", taskKey, "status", "deliveries", "queue", "priority", "rm")
  if f[1] == "running" then
    local deliveries = tonumber(f[2]) or 0
    if maxDeliveries > 0 and deliveries >= maxDeliveries then
      deadLetter(dlqKey, eventsKey, maxLen, taskKey, id, now, nowUs, cjson.encode({
        name = "PoisonTaskError", code = "ERR_POISON",
        message = "The task was delivered " .. deliveries .. " times without an outcome (maxDeliveries " .. maxDeliveries .. ")",
      }))
      poisoned = poisoned + 1
    else
      redis.call("HSET", taskKey, "status", "retrying", "error", lapsed)
      redis.call("HDEL", taskKey, "leaseUntil")
      local readyKey = base .. "q:" .. f[3] .. ":ready"
      if (f[5] or "") ~= "" then
        -- Its place from before the claim: same member, same position among equal priorities.
        redis.call("ZADD", readyKey, -tonumber(f[4]), f[5])
      else
        pushReady(readyKey, seqKey, taskKey, id, f[4])
      end
      wake(base .. "q:" .. f[3] .. ":marker")
      emitEvent(eventsKey, maxLen, taskKey, "retrying", digits(now), "error", lapsed, "reason",
        "lease-expired")
      reclaimed = reclaimed + 1
    end
  end
end
if poisoned > 0 then
  trimSet(dlqKey, base, nowUs, tonumber(ARGV[4]), tonumber(ARGV[5]), tonumber(ARGV[6]))
end
local more = 0
if #ids == batch then
  more = 1
end
local nextExpiry = -1
local first = redis.call("ZRANGE", leasesKey, 0, 0, "WITHSCORES")
if first[2] then
  nextExpiry = math.max(0, tonumber(first[2]) - now)
end
return { reclaimed, poisoned, more, nextExpiry }
