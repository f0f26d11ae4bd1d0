--[[
  One worker step: acks the handlers that finished, then claims work for the free slots, in one
  round trip. In order:
    1. acks: each (id, token, result) is fenced by its token on its own: a stale one is refused
       (its code in the reply) while the others are acked; then one batch move from leases to
       finished and one trim of finished records;
    2. with max = 0, stops there (acks only);
    3. a replayed call (same request id as a call that already ran, e.g. resent by the client
       after a dropped connection) returns the leases that call took, and claims nothing more;
       the leases of earlier calls whose reply never arrived (their receipts named in KEYS) are
       returned too, up to max (the rest lapse with their lease). Neither counts a delivery
       again;
    4. promotes due delayed tasks, leaves out the queues paused for every process ({p}:paused),
       takes tokens from the optional global rate bucket, then pops
       up to max tasks across the given queues (highest priority first, FIFO within a priority,
       across queues), leasing each with a fresh fencing token;
    5. with a request id, stores a receipt of the leases this call returns (expires with them).

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
  KEYS[10] receipt of this call {p}:rcpt:<request id>  (the bare {p}:rcpt: stand-in without one)
  KEYS[11 .. 10+u]             receipts of u earlier calls whose reply never arrived
  then per queue to claim from: its ready zset and its marker list (variable key count)

  ARGV[1]  max tasks to claim (>= 0; 0 = acks only)
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
  ARGV[13] request id ("" = none: no receipt, no replay detection)
  ARGV[14] u: how many earlier receipts follow KEYS[10]
  ARGV[15] a: how many acks follow
  ARGV[16 ..] a triples: task id, fencing token, result JSON ("" = undefined)

  Returns { now, nextDue, rateWaitMs, poisoned, expired, tasks, acks }:
    now         Redis time (ms), as a string
    nextDue     earliest due time left in the delayed zset, "" when empty or not looked up (the
                call filled max: its caller will not wait)
    rateWaitMs  > 0 when the bucket ran dry while work was left: ms until the next token
    poisoned    tasks moved to the DLQ instead (delivered maxDeliveries times already)
    expired     tasks that reached their expiresAt before their first start
    tasks       per leased task, its fields by position ("" = absent): id, attempts,
                deliveries, startedAt, token, leaseUntil, createdAt, expiresAt, payload JSON,
                spec JSON ([name, queue, priority, maxRetries, timeoutMs, retry, meta, idem],
                see claimSpec in enqueue.ts), error JSON, deps JSON (a flow node's
                dependencies' outcomes by ref)
    acks        per ack, in order: finishedAt (> 0) or a lease refusal code (-1..-4)
]]
-- @include time
-- @include batch
-- @include ready
-- @include wake
-- @include dead-letter
-- @include evict
-- @include complete

local base, delayedKey, leasesKey, dlqKey = KEYS[1], KEYS[2], KEYS[3], KEYS[4]
local eventsKey, seqKey, finishedKey, receiptKey = KEYS[7], KEYS[8], KEYS[9], KEYS[10]
local max = tonumber(ARGV[1])
local leaseMs = tonumber(ARGV[2])
local maxDeliveries = tonumber(ARGV[3])
local perSecond, burst = tonumber(ARGV[5]), tonumber(ARGV[6])
local maxLen = ARGV[7]
local budget = tonumber(ARGV[12])
local requestId = ARGV[13]
local unanswered = tonumber(ARGV[14])
local ackCount = tonumber(ARGV[15])
local now, nowUs = clock()
local nowText = digits(now)

-- 1. Acks.
local acks, done = {}, {}
for i = 0, ackCount - 1 do
  local at = 16 + i * 3
  acks[i + 1] = complete(base, eventsKey, maxLen, ARGV[at], ARGV[at + 1], ARGV[at + 2], now, nowText,
    done)
end
finishCompleted(leasesKey, finishedKey, base, done, nowUs, tonumber(ARGV[10]), tonumber(ARGV[11]),
  budget)

-- 2. Acks only.
if max <= 0 then
  return { nowText, "", "0", 0, 0, {}, acks }
end

local claimed, receipt, leased = {}, {}, {}
local leaseUntil = digits(now + leaseMs)

-- A queue paused for every process ({p}:paused, derived from the stem: same hash tag) is left
-- out here, in the step that would lease its tasks: a claim that runs after a pause took
-- effect takes nothing from it. Its ready key is "<stem>q:<queue>:ready".
local pausedKey = base .. "paused"
local readyKeys, markerKeys, ours = {}, {}, {}
for i = 11 + unanswered, #KEYS, 2 do
  ours[KEYS[i]] = true
  local queue = string.sub(KEYS[i], #base + 3, -7)
  if redis.call("SISMEMBER", pausedKey, queue) == 0 then
    readyKeys[#readyKeys + 1] = KEYS[i]
    markerKeys[#markerKeys + 1] = KEYS[i + 1]
  end
end

-- What a claim reads of a task (one HMGET) and returns of it. The static fields travel packed
-- in "spec" (written at enqueue); a task stored without one (an older version) gets it built.
local READ = { "status", "rm", "deliveries", "attempts", "startedAt", "expiresAt", "token",
  "createdAt", "payload", "spec", "error", "deps" }
local function read(taskKey)
  return redis.call("HMGET", taskKey, unpack(READ))
end
local function specOf(taskKey, f)
  if f[10] and f[10] ~= "" then
    return f[10]
  end
  local s = redis.call("HMGET", taskKey, "name", "queue", "priority", "maxRetries", "timeoutMs",
    "retry", "meta", "idem")
  local function raw(v)
    if v and v ~= "" then
      return v
    end
    return "null"
  end
  local function str(v)
    if v and v ~= "" then
      return cjson.encode(v)
    end
    return "null"
  end
  return "[" .. str(s[1]) .. "," .. str(s[2]) .. "," .. raw(s[3]) .. "," .. raw(s[4]) .. ","
    .. raw(s[5]) .. "," .. raw(s[6]) .. "," .. raw(s[7]) .. "," .. str(s[8]) .. "]"
end
-- The reply entry, by position (claim.ts reads it): id, attempts, deliveries, startedAt, token,
-- leaseUntil, createdAt, expiresAt, payload, spec, error, deps (a flow node's dependencies'
-- outcomes, JSON by ref) ("" = absent). Counts and times as
-- text.
local function leasedEntry(taskKey, id, f, attempts, deliveries, startedAt, token)
  return { id, attempts, deliveries, startedAt, token, leaseUntil, f[8] or "", f[6] or "",
    f[9] or "", specOf(taskKey, f), f[11] or "", f[12] or "" }
end

-- 3. Leases of a replayed call, and of earlier calls whose reply was lost: returned again
-- (lease extended, no delivery counted) if this worker still holds them under the same token.
local replay = false
local function recover(key, limit)
  local text = redis.call("GET", key)
  if not text then
    return false
  end
  for id, token in string.gmatch(text, "([^ ]+) ([^ ]+)") do
    local taskKey = base .. "t:" .. id
    local f = read(taskKey)
    if f[1] == "running" and f[7] == token and #claimed < limit then
      redis.call("HSET", taskKey, "leaseUntil", leaseUntil)
      leased[#leased + 1] = leaseUntil
      leased[#leased + 1] = id
      receipt[#receipt + 1] = id .. " " .. token
      claimed[#claimed + 1] = leasedEntry(taskKey, id, f, f[4], f[3], f[5], token)
    end
  end
  return true
end
if requestId ~= "" then
  -- A replay returns what the call took the first time (it asked for the same max).
  replay = recover(receiptKey, math.huge)
  for i = 11, 10 + unanswered do
    recover(KEYS[i], max)
  end
end

local poisoned, expired, rateWaitMs = 0, 0, 0
if not replay and #claimed < max then
  -- 4a. Promote due delayed tasks (bounded, oldest due first).
  local due = redis.call("ZRANGEBYSCORE", delayedKey, "-inf", nowText, "LIMIT", 0, tonumber(ARGV[4]))
  batched("ZREM", delayedKey, due, 1000)
  for _, id in ipairs(due) do
    local taskKey = base .. "t:" .. id
    local f = redis.call("HMGET", taskKey, "queue", "priority", "status")
    if f[1] and (f[3] == "scheduled" or f[3] == "retrying") then
      local readyKey = base .. "q:" .. f[1] .. ":ready"
      pushReady(readyKey, seqKey, taskKey, id, f[2])
      if f[3] == "scheduled" then
        redis.call("HSET", taskKey, "status", "queued", "runAt", "")
      else
        redis.call("HSET", taskKey, "runAt", "")
      end
      if not ours[readyKey] then
        wake(base .. "q:" .. f[1] .. ":marker")
      end
    end
  end

  -- 4b. The global rate bucket: refill from Redis time, never above burst.
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
    allowed = math.min(max, #claimed + math.floor(tokens + 1e-9))
  end

  -- 4c. Take candidates, best first: a single queue pops its head directly; several queues
  -- are peeked and merged (score, then member: priority, then FIFO sequence).
  local function candidates(need)
    if #readyKeys == 1 then
      local r = redis.call("ZPOPMIN", readyKeys[1], need)
      local out = {}
      for j = 1, #r, 2 do
        out[#out + 1] = r[j]
      end
      return out
    end
    local all = {}
    for i = 1, #readyKeys do
      local r = redis.call("ZRANGE", readyKeys[i], 0, need - 1, "WITHSCORES")
      for j = 1, #r, 2 do
        all[#all + 1] = { tonumber(r[j + 1]), r[j], i }
      end
    end
    table.sort(all, function(a, b)
      if a[1] ~= b[1] then
        return a[1] < b[1]
      end
      return a[2] < b[2]
    end)
    local out, taken = {}, {}
    for j = 1, math.min(need, #all) do
      local c = all[j]
      out[#out + 1] = c[2]
      taken[c[3]] = taken[c[3]] or {}
      local list = taken[c[3]]
      list[#list + 1] = c[2]
    end
    for i, members in pairs(taken) do
      batched("ZREM", readyKeys[i], members, 1000)
    end
    return out
  end

  -- 4d. Each candidate is leased as it is read: one HSET per task (its ready member stays in rm:
  -- a reclaim puts the task back in the same place), its fencing token from one
  -- INCRBY per batch of candidates (a skipped candidate leaves its token unused: tokens only
  -- need to be unique and increasing), one ZADD for all the leases at the end.
  local function lease(taskKey, id, f, deliveries, token)
    local attempts = digits((tonumber(f[4]) or 0) + 1)
    local startedAt = f[5]
    if (startedAt or "") == "" then
      startedAt = nowText
      redis.call("HSET", taskKey, "status", "running", "token", token, "leaseUntil", leaseUntil,
        "deliveries", deliveries, "attempts", attempts, "startedAt", nowText, "runAt", "",
        "outcome", "")
    else
      redis.call("HSET", taskKey, "status", "running", "token", token, "leaseUntil", leaseUntil,
        "deliveries", deliveries, "attempts", attempts, "runAt", "", "outcome", "")
    end
    leased[#leased + 1] = leaseUntil
    leased[#leased + 1] = id
    receipt[#receipt + 1] = id .. " " .. token
    claimed[#claimed + 1] = leasedEntry(taskKey, id, f, attempts, deliveries, startedAt, token)
  end

  -- Skipped entries (poison, expired, stale members) do not count toward max, but are bounded
  -- so a pathological backlog cannot make one call long.
  local skipsLeft = 100
  local cutShort = false
  local fresh = 0
  while #claimed < allowed and not cutShort do
    local members = candidates(allowed - #claimed)
    if #members == 0 then
      break
    end
    local nextToken = redis.call("INCRBY", KEYS[5], #members) - #members
    for _, member in ipairs(members) do
      nextToken = nextToken + 1
      -- The member is "<16-digit sequence>:<id>" (see ready.lua).
      local id = string.sub(member, 18)
      local taskKey = base .. "t:" .. id
      local f = read(taskKey)
      local skip = true
      if f[2] ~= member or (f[1] ~= "queued" and f[1] ~= "retrying") then
        -- A stale member (the task moved on): drop it.
      elseif f[1] == "queued" and (f[5] or "") == "" and (f[6] or "") ~= ""
        and tonumber(f[6]) <= now then
        local errorJson = cjson.encode({
          name = "ExpiredError", code = "ERR_EXPIRED", message = "The task expired before it could start",
        })
        redis.call("HSET", taskKey, "status", "expired", "finishedAt", nowText, "error", errorJson,
          "rm", "")
        redis.call("ZADD", finishedKey, digits(nowUs), id)
        local e = redis.call("HMGET", taskKey, "name", "queue")
        appendEvent(eventsKey, maxLen, id, e[1], e[2], "expired", f[4], f[8], f[5], nowText,
          "error", errorJson, "finishedAt", nowText)
        flowNodeEnded(base, maxLen, id, now, nowUs)
        expired = expired + 1
      else
        local deliveries = (tonumber(f[3]) or 0) + 1
        if maxDeliveries > 0 and deliveries > maxDeliveries then
          deadLetter(dlqKey, eventsKey, maxLen, taskKey, id, now, nowUs, cjson.encode({
            name = "PoisonTaskError", code = "ERR_POISON",
            message = "The task was delivered " .. (deliveries - 1) .. " times without an outcome (maxDeliveries " .. maxDeliveries .. ")",
          }))
          poisoned = poisoned + 1
        else
          skip = false
          fresh = fresh + 1
          lease(taskKey, id, f, digits(deliveries), digits(nextToken))
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
  end

  if poisoned > 0 then
    trimSet(dlqKey, base, nowUs, tonumber(ARGV[8]), tonumber(ARGV[9]), budget)
  end
  if expired > 0 then
    trimSet(finishedKey, base, nowUs, tonumber(ARGV[10]), tonumber(ARGV[11]), budget)
  end

  -- 4e. Settle the bucket and tell the caller how long until the next token.
  local function workLeft()
    for i = 1, #readyKeys do
      if redis.call("ZCARD", readyKeys[i]) > 0 then
        return true
      end
    end
    return false
  end
  if perSecond > 0 then
    tokens = tokens - fresh
    redis.call("HSET", KEYS[6], "tokens", tostring(tokens), "ts", nowText)
    if #claimed == allowed and allowed < max and tokens < 1 and workLeft() then
      rateWaitMs = math.ceil((1 - tokens) * 1000 / perSecond)
    end
  end

  -- 4f. Filled up (or cut short) while work is left: pass the wake-up token on, so another
  -- blocked worker (or this one, at once) claims the rest.
  if #claimed == max or cutShort then
    for i = 1, #readyKeys do
      if redis.call("ZCARD", readyKeys[i]) > 0 then
        wake(markerKeys[i])
      end
    end
  end
end

batched("ZADD", leasesKey, leased, 1000)

-- 5. The receipt: which leases this request id got, for as long as they last.
if requestId ~= "" and #receipt > 0 then
  redis.call("SET", receiptKey, table.concat(receipt, " "), "PX", ARGV[2])
end

local nextDue = ""
if #claimed < max then
  nextDue = redis.call("ZRANGE", delayedKey, 0, 0, "WITHSCORES")[2] or ""
end
return { nowText, nextDue, tostring(rateWaitMs), poisoned, expired, claimed, acks }
