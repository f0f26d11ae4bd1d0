-- @include batch
-- @include lease
-- @include event
-- Acks one running task under token: status succeeded, result kept (valueJson, "" for none), a
-- "succeeded" event built from the fields read with the lease check (one HMGET, one HSET, one
-- XADD). The caller then moves every id collected in done from the leases zset to the finished
-- zset in one go (finishCompleted). Returns finishedAt (ms, > 0; the first one again for a
-- repeated ack under the same token) or a lease refusal code (see lease.lua).
local function complete(base, eventsKey, maxLen, id, token, valueJson, now, done)
  local taskKey = base .. "t:" .. id
  local f = redis.call("HMGET", taskKey, "status", "token", "outcome", "name", "queue", "attempts",
    "createdAt", "startedAt")
  local refused = leaseRefusal(f[1], f[2], f[3], token, "ack")
  if refused then
    return refused
  end
  -- leaseUntil and error are blanked, not deleted: "" reads as absent, and it saves a command.
  local extra = { "finishedAt", tostring(now) }
  if valueJson ~= "" then
    redis.call("HSET", taskKey, "status", "succeeded", "finishedAt", now, "outcome", "ack:" .. now,
      "leaseUntil", "", "error", "", "value", valueJson)
    extra[3], extra[4] = "value", valueJson
  else
    redis.call("HSET", taskKey, "status", "succeeded", "finishedAt", now, "outcome", "ack:" .. now,
      "leaseUntil", "", "error", "")
  end
  appendEvent(eventsKey, maxLen, id, f[4], f[5], "succeeded", f[6], f[7], f[8], now, extra)
  done[#done + 1] = id
  return now
end

-- Moves completed ids out of the leases zset and into the finished zset (scored by nowUs),
-- then trims finished records once for the whole batch.
local function finishCompleted(leasesKey, finishedKey, base, done, nowUs, ttlMs, maxEntries, budget)
  if #done == 0 then
    return
  end
  batched("ZREM", leasesKey, done, 1000)
  local scored = {}
  for i, id in ipairs(done) do
    scored[2 * i - 1] = nowUs
    scored[2 * i] = id
  end
  batched("ZADD", finishedKey, scored, 1000)
  trimSet(finishedKey, base, nowUs, ttlMs, maxEntries, budget)
end
