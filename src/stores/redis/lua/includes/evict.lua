-- @include batch
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

-- Removes ids from setKey and evicts their tasks: one ZREM and one DEL for the lot, one HGET
-- (idempotency key) per task.
local function evictMany(setKey, base, ids)
  if #ids == 0 then
    return
  end
  batched("ZREM", setKey, ids, 1000)
  local dead = {}
  for _, id in ipairs(ids) do
    local taskKey = base .. "t:" .. id
    local idem = redis.call("HGET", taskKey, "idem")
    if idem then
      local idemKey = base .. "idem:" .. idem
      if redis.call("GET", idemKey) == id then
        dead[#dead + 1] = idemKey
      end
    end
    dead[#dead + 1] = taskKey
  end
  batched("DEL", nil, dead, 1000)
end

-- Evicts entries of a zset scored in microseconds (finished, dlq) older than ttlMs (0 = no age
-- limit) and beyond maxEntries (-1 = no count limit), oldest first, at most budget per call so
-- one call stays short. Returns how many were evicted.
local function trimSet(setKey, base, nowUs, ttlMs, maxEntries, budget)
  local removed = 0
  if ttlMs > 0 then
    local old = redis.call("ZRANGEBYSCORE", setKey, "-inf", nowUs - ttlMs * 1000, "LIMIT", 0, budget)
    evictMany(setKey, base, old)
    removed = #old
  end
  if maxEntries >= 0 and removed < budget then
    local excess = redis.call("ZCARD", setKey) - maxEntries
    if excess > 0 then
      local ids = redis.call("ZRANGE", setKey, 0, math.min(excess, budget - removed) - 1)
      evictMany(setKey, base, ids)
      removed = removed + #ids
    end
  end
  return removed
end
