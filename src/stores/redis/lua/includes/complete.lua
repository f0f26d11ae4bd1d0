-- @include time
-- @include batch
-- @include lease
-- @include event
-- @include flow
-- Acks one running task under token: status succeeded, result kept (valueJson, "" for none), a
-- "succeeded" event built from the fields read with the lease check (one HMGET, one HSET, one
-- XADD; finishCompleted counts it in the totals). nowText is now as text (digits). The caller then moves every id collected in done
-- from the leases zset to the finished zset in one go (finishCompleted). Returns finishedAt
-- (ms, > 0; the first one again for a repeated ack under the same token) or a lease refusal
-- code (see lease.lua).
local function complete(base, eventsKey, maxLen, id, token, valueJson, now, nowText, done)
  local taskKey = base .. "t:" .. id
  local f = redis.call("HMGET", taskKey, "status", "token", "outcome", "attempts", "startedAt",
    "createdAt", "name", "queue", "flow")
  local refused = leaseRefusal(f[1], f[2], f[3], token, "ack")
  if refused then
    return refused
  end
  -- leaseUntil and error are blanked, not deleted: "" reads as absent, and a field that stays
  -- keeps its place in the hash (see enqueue).
  if valueJson ~= "" then
    redis.call("HSET", taskKey, "status", "succeeded", "outcome", "ack:" .. nowText, "leaseUntil", "",
      "finishedAt", nowText, "error", "", "value", valueJson)
    xaddEvent(eventsKey, maxLen, id, f[7], f[8], "succeeded", f[4], f[6], f[5], nowText,
      "finishedAt", nowText, "value", valueJson)
  else
    redis.call("HSET", taskKey, "status", "succeeded", "outcome", "ack:" .. nowText, "leaseUntil", "",
      "finishedAt", nowText, "error", "")
    xaddEvent(eventsKey, maxLen, id, f[7], f[8], "succeeded", f[4], f[6], f[5], nowText,
      "finishedAt", nowText)
  end
  done[#done + 1] = id
  -- A flow's node: its dependents are resolved in this same step.
  if f[9] and f[9] ~= "" then
    flowNodeEnded(base, maxLen, id, now, nil, f[9], valueJson)
  end
  return now
end

-- Moves completed ids out of the leases zset and into the finished zset (scored by nowUs),
-- counts their "succeeded" events in the store totals (once for the batch: complete() added
-- the events without counting them), then trims finished records once for the whole batch.
local function finishCompleted(leasesKey, finishedKey, base, done, nowUs, ttlMs, maxEntries, budget)
  if #done == 0 then
    return
  end
  redis.call("HINCRBY", base .. "totals", "succeeded", #done)
  batched("ZREM", leasesKey, done, 1000)
  local score = digits(nowUs)
  local scored = {}
  for i, id in ipairs(done) do
    scored[2 * i - 1] = score
    scored[2 * i] = id
  end
  batched("ZADD", finishedKey, scored, 1000)
  trimSet(finishedKey, base, nowUs, ttlMs, maxEntries, budget)
end
