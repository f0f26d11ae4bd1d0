--[[
  One claim step: promotes due delayed tasks, takes tokens from the optional global rate
  bucket, then pops up to max tasks across the given queues (highest priority first, FIFO
  within a priority, across queues), leasing each with a fresh fencing token.

  KEYS[1] key stem             {p}:  (derives {p}:t:<id> and the ready/marker keys of queues
                                      that promoted tasks belong to; same hash tag)
  KEYS[2] delayed zset         {p}:delayed
  KEYS[3] leases zset          {p}:leases
  KEYS[4] dead-letter zset     {p}:dlq
  KEYS[5] fencing counter      {p}:fence
  KEYS[6] rate bucket hash     {p}:rate
  KEYS[7] events stream        {p}:events
  KEYS[8] sequence counter     {p}:seq
  KEYS[9] finished zset        {p}:finished
  KEYS[10], KEYS[11]           ready zset and marker list of the 1st queue to claim from
  KEYS[12], KEYS[13] ...       ... of the 2nd queue, and so on (variable key count)

  ARGV[1]  max tasks to claim (>= 1)
  ARGV[2]  leaseMs
  ARGV[3]  maxDeliveries (0 = unlimited)
  ARGV[4]  promote batch: most delayed tasks promoted per call
  ARGV[5]  rate perSecond (0 = no global rate limit)
  ARGV[6]  rate burst (bucket capacity)
  ARGV[7]  events MAXLEN ~
  ARGV[8]  dead letters: ttlMs (0 = none)
  ARGV[9]  dead letters: maxEntries (-1 = none)
  ARGV[10] finished: ttlMs (0 = none)
  ARGV[11] finished: maxEntries (-1 = none)
  ARGV[12] trim budget per call

  Returns { now, nextDue, rateWaitMs, poisoned, expired, tasks }:
    now         Redis time (ms), as a string
    nextDue     earliest due time left in the delayed zset, "" when empty
    rateWaitMs  > 0 when the bucket ran dry while work was left: ms until the next token
    poisoned    tasks moved to the DLQ instead (delivered maxDeliveries times already)
    expired     tasks that reached their expiresAt before their first start
    tasks       one flat HGETALL array per claimed task
]]
-- @include time
-- @include ready
-- @include wake
-- @include dead-letter
-- @include evict

local base, delayedKey, leasesKey, dlqKey = KEYS[1], KEYS[2], KEYS[3], KEYS[4]
local eventsKey, seqKey, finishedKey = KEYS[7], KEYS[8], KEYS[9]
local max = tonumber(ARGV[1])
local leaseMs = tonumber(ARGV[2])
local maxDeliveries = tonumber(ARGV[3])
local perSecond, burst = tonumber(ARGV[5]), tonumber(ARGV[6])
local maxLen = ARGV[7]
local budget = tonumber(ARGV[12])
local now, nowUs = clock()

local readyKeys, markerKeys, ours = {}, {}, {}
for i = 10, #KEYS, 2 do
  readyKeys[#readyKeys + 1] = KEYS[i]
  markerKeys[#markerKeys + 1] = KEYS[i + 1]
  ours[KEYS[i]] = true
end

-- 1. Promote due delayed tasks (bounded, oldest due first).
local due = redis.call("ZRANGEBYSCORE", delayedKey, "-inf", now, "LIMIT", 0, tonumber(ARGV[4]))
for _, id in ipairs(due) do
  redis.call("ZREM", delayedKey, id)
  local taskKey = base .. "t:" .. id
  local f = redis.call("HMGET", taskKey, "queue", "priority", "status")
  if f[1] and (f[3] == "scheduled" or f[3] == "retrying") then
    local readyKey = base .. "q:" .. f[1] .. ":ready"
    pushReady(readyKey, seqKey, taskKey, id, f[2])
    redis.call("HDEL", taskKey, "runAt")
    if f[3] == "scheduled" then
      redis.call("HSET", taskKey, "status", "queued")
    end
    if not ours[readyKey] then
      wake(base .. "q:" .. f[1] .. ":marker")
    end
  end
end

-- 2. The global rate bucket: refill from Redis time, never above burst.
local allowed = max
local tokens
if perSecond > 0 then
  local st = redis.call("HMGET", KEYS[6], "tokens", "ts")
  tokens = tonumber(st[1]) or burst
  local ts = tonumber(st[2]) or now
  if now > ts then
    tokens = tokens + (now - ts) * perSecond / 1000
  end
  tokens = math.min(burst, tokens)
  -- The epsilon absorbs float dust so a token earned "exactly now" counts.
  allowed = math.min(max, math.floor(tokens + 1e-9))
end

-- 3. Pop the best heads across queues.
local heads = {}
local function head(i)
  if heads[i] == nil then
    local r = redis.call("ZRANGE", readyKeys[i], 0, 0, "WITHSCORES")
    if r[1] then
      heads[i] = { r[1], tonumber(r[2]) }
    else
      heads[i] = false
    end
  end
  return heads[i]
end

local claimed, poisoned, expired = {}, 0, 0
-- Skipped entries (poison, expired, stale members) do not count toward max, but are bounded
-- so a pathological backlog cannot make one call long.
local skipsLeft = 100
local cutShort = false
while #claimed < allowed do
  local best
  for i = 1, #readyKeys do
    local h = head(i)
    if h and (best == nil or h[2] < heads[best][2] or (h[2] == heads[best][2] and h[1] < heads[best][1])) then
      best = i
    end
  end
  if best == nil then
    break
  end
  local member = heads[best][1]
  redis.call("ZREM", readyKeys[best], member)
  heads[best] = nil
  local id = string.match(member, "^%d+:(.*)$")
  local taskKey = base .. "t:" .. id
  local f = redis.call("HMGET", taskKey, "status", "deliveries", "expiresAt", "startedAt", "rm")
  local skip = true
  if f[5] ~= member or (f[1] ~= "queued" and f[1] ~= "retrying") then
    -- A stale member (the task moved on): drop it.
  elseif f[1] == "queued" and f[4] == false and f[3] and tonumber(f[3]) <= now then
    local errorJson = cjson.encode({
      name = "ExpiredError", code = "ERR_EXPIRED", message = "The task expired before it could start",
    })
    redis.call("HSET", taskKey, "status", "expired", "finishedAt", now, "error", errorJson)
    redis.call("HDEL", taskKey, "rm")
    redis.call("ZADD", finishedKey, nowUs, id)
    emitEvent(eventsKey, maxLen, taskKey, "expired", now, { "error", errorJson, "finishedAt", tostring(now) })
    expired = expired + 1
  else
    local deliveries = (tonumber(f[2]) or 0) + 1
    if maxDeliveries > 0 and deliveries > maxDeliveries then
      deadLetter(dlqKey, eventsKey, maxLen, taskKey, id, now, nowUs, cjson.encode({
        name = "PoisonTaskError", code = "ERR_POISON",
        message = "The task was delivered " .. (deliveries - 1) .. " times without an outcome (maxDeliveries " .. maxDeliveries .. ")",
      }))
      poisoned = poisoned + 1
    else
      skip = false
      local token = redis.call("INCR", KEYS[5])
      local leaseUntil = now + leaseMs
      redis.call("HSET", taskKey, "status", "running", "token", token, "leaseUntil", leaseUntil,
        "deliveries", deliveries)
      redis.call("HINCRBY", taskKey, "attempts", 1)
      if f[4] == false then
        redis.call("HSET", taskKey, "startedAt", now)
      end
      redis.call("HDEL", taskKey, "rm", "runAt", "outcome")
      redis.call("ZADD", leasesKey, leaseUntil, id)
      claimed[#claimed + 1] = redis.call("HGETALL", taskKey)
    end
  end
  if skip then
    skipsLeft = skipsLeft - 1
    if skipsLeft <= 0 then
      cutShort = true
      break
    end
  end
end
if poisoned > 0 then
  trimSet(dlqKey, base, nowUs, tonumber(ARGV[8]), tonumber(ARGV[9]), budget)
end
if expired > 0 then
  trimSet(finishedKey, base, nowUs, tonumber(ARGV[10]), tonumber(ARGV[11]), budget)
end

-- 4. Settle the bucket and tell the caller how long until the next token.
local rateWaitMs = 0
if perSecond > 0 then
  tokens = tokens - #claimed
  redis.call("HSET", KEYS[6], "tokens", tostring(tokens), "ts", now)
  if #claimed == allowed and allowed < max and tokens < 1 then
    for i = 1, #readyKeys do
      if head(i) then
        rateWaitMs = math.ceil((1 - tokens) * 1000 / perSecond)
        break
      end
    end
  end
end

-- 5. Filled up (or cut short) while work is left: pass the wake-up token on, so another
-- blocked worker (or this one, at once) claims the rest.
if #claimed == max or cutShort then
  for i = 1, #readyKeys do
    if head(i) then
      wake(markerKeys[i])
    end
  end
end

local nextDue = redis.call("ZRANGE", delayedKey, 0, 0, "WITHSCORES")
return { tostring(now), nextDue[2] or "", tostring(rateWaitMs), poisoned, expired, claimed }
