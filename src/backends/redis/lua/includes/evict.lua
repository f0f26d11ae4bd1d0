-- Deletes a task hash and the idempotency key pointing at it. base is the "{prefix}:" stem
-- passed in KEYS, so the derived keys carry the same hash tag (same Cluster slot).
local function evictTask(base, id)
  local taskKey = base .. "t:" .. id
  local idem = redis.call("HGET", taskKey, "idem")
  if idem then
    local idemKey = base .. "idem:" .. idem
    if redis.call("GET", idemKey) == id then
      redis.call("DEL", idemKey)
    end
  end
  redis.call("DEL", taskKey)
end

-- Evicts entries of a zset scored in microseconds (finished, dlq) older than ttlMs (0 = no age
-- limit) and beyond maxEntries (-1 = no count limit), oldest first, at most budget per call so
-- one call stays short. Returns how many were evicted.
local function trimSet(setKey, base, nowUs, ttlMs, maxEntries, budget)
  local removed = 0
  if ttlMs > 0 then
    local old = redis.call("ZRANGEBYSCORE", setKey, "-inf", nowUs - ttlMs * 1000, "LIMIT", 0, budget)
    for _, id in ipairs(old) do
      redis.call("ZREM", setKey, id)
      evictTask(base, id)
      removed = removed + 1
    end
  end
  if maxEntries >= 0 and removed < budget then
    local excess = redis.call("ZCARD", setKey) - maxEntries
    if excess > 0 then
      local ids = redis.call("ZRANGE", setKey, 0, math.min(excess, budget - removed) - 1)
      for _, id in ipairs(ids) do
        redis.call("ZREM", setKey, id)
        evictTask(base, id)
        removed = removed + 1
      end
    end
  end
  return removed
end
