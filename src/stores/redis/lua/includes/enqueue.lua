-- @include time
-- Storing a new task: shared by enqueue (one task) and enqueue-many (several, all or nothing).
-- A task travels as 16 consecutive arguments of a, from a[o + 1] to a[o + 16], in the order of
-- enqueue's ARGV[1..16] (see its header; the TS side encodes both the same way):
--   1 id, 2 name, 3 queue, 4 payload JSON, 5 priority, 6 delayMs, 7 runAt, 8 ttlMs,
--   9 expiresAt, 10 idempotency key, 11 fingerprint, 12 maxRetries, 13 timeoutMs, 14 retry JSON,
--   15 meta JSON, 16 claim spec JSON ("" = unset for all the optional ones).

-- The task an enqueue names already. heldByKey looks at its idempotency key (idem, "" for
-- none; idemKey is {p}:idem:<idem>, base the {p}: stem that derives the holder's hash): a key
-- whose holder was evicted is free again. heldById looks at its id (taskKey is {p}:t:<id>).
-- Each returns nil when nothing is there, else code, holder id, holder status:
--    0  same fingerprint (same name and payload): the existing task stands for this one
--   -6  the idempotency key is held by a task with another fingerprint
--   -7  the id is taken by a task with another fingerprint
local function heldByKey(base, idemKey, idem, fp)
  if idem == "" then
    return nil
  end
  local holder = redis.call("GET", idemKey)
  if not holder then
    return nil
  end
  local held = redis.call("HMGET", base .. "t:" .. holder, "fp", "status")
  if not held[2] then
    return nil
  end
  if (held[1] or "") == fp then
    return 0, holder, held[2]
  end
  return -6, holder, held[2]
end

local function heldById(taskKey, id, fp)
  local existing = redis.call("HMGET", taskKey, "fp", "status")
  if not existing[2] then
    return nil
  end
  if (existing[1] or "") == fp then
    return 0, id, existing[2]
  end
  return -7, id, existing[2]
end

-- When the task at a[o + 1 ..] starts and expires (epoch ms, nil for none), from Redis time
-- now; delayed is true when it must wait in the delayed zset.
local function taskTimes(a, o, now)
  local runAt = tonumber(a[o + 7])
  if runAt == nil and a[o + 6] ~= "" then
    runAt = now + tonumber(a[o + 6])
  end
  local expiresAt = tonumber(a[o + 9])
  if expiresAt == nil and a[o + 8] ~= "" then
    expiresAt = now + tonumber(a[o + 8])
  end
  return runAt, expiresAt, runAt ~= nil and runAt > now
end

-- Writes the hash of the new task at a[o + 1 ..] (one HSET) and returns its status: scheduled
-- when delayed, else queued (member is its ready-zset member, "" when delayed). Indexing it
-- (ready or delayed zset, queue set, idempotency key) is the caller's. extra (optional) holds
-- more field/value pairs written in the same HSET (a flow node's fields, enqueue-flow).
local function storeTask(taskKey, a, o, nowText, delayed, runAt, expiresAt, member, extra)
  local status = "queued"
  if delayed then
    status = "scheduled"
  end
  -- The whole hash in one HSET. The fields every claim and ack read or write come first and
  -- exist from the start ("" reads as absent): Redis finds a field of a small hash by scanning
  -- it from the front, and a field that exists is overwritten in place instead of appended.
  local fields = { "status", status, "token", "", "outcome", "", "attempts", "0", "deliveries",
    "0", "startedAt", "", "createdAt", nowText, "rm", member, "leaseUntil", "",
    "runAt", delayed and runAt or "", "expiresAt", expiresAt or "",
    "finishedAt", "", "error", "", "name", a[o + 2], "queue", a[o + 3], "spec", a[o + 16] or "",
    "payload", a[o + 4], "id", a[o + 1], "priority", a[o + 5] }
  local optional = { "idem", a[o + 10], "fp", a[o + 11], "maxRetries", a[o + 12],
    "timeoutMs", a[o + 13], "retry", a[o + 14], "meta", a[o + 15] }
  for i = 1, #optional, 2 do
    if optional[i + 1] ~= "" then
      fields[#fields + 1] = optional[i]
      fields[#fields + 1] = optional[i + 1]
    end
  end
  if extra then
    for i = 1, #extra do
      fields[#fields + 1] = extra[i]
    end
  end
  redis.call("HSET", taskKey, unpack(fields))
  return status
end
