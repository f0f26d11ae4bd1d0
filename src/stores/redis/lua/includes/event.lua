-- Appends one lifecycle event to the events stream (approximately trimmed to maxLen), from
-- fields the caller already holds. at is the event time as text (see digits in time.lua); k1,
-- v1, k2, v2 are up to two additional field/value pairs (nil when absent). One XADD with its
-- arguments written out: no table is built per event (passing the pairs through as varargs
-- instead of the three branches measured 3-5% slower per job in bench/durable-script.mjs).
-- xaddEvent does not count the event in the store totals: its caller does, once per batch
-- (complete.lua); appendEvent does both.
local function xaddEvent(eventsKey, maxLen, id, name, queue, status, attempts, createdAt, startedAt, at, k1, v1, k2, v2)
  if k2 then
    redis.call("XADD", eventsKey, "MAXLEN", "~", maxLen, "*", "id", id or "", "name", name or "",
      "queue", queue or "", "status", status, "attempts", attempts or "0", "createdAt",
      createdAt or "", "startedAt", startedAt or "", "at", at, k1, v1, k2, v2)
  elseif k1 then
    redis.call("XADD", eventsKey, "MAXLEN", "~", maxLen, "*", "id", id or "", "name", name or "",
      "queue", queue or "", "status", status, "attempts", attempts or "0", "createdAt",
      createdAt or "", "startedAt", startedAt or "", "at", at, k1, v1)
  else
    redis.call("XADD", eventsKey, "MAXLEN", "~", maxLen, "*", "id", id or "", "name", name or "",
      "queue", queue or "", "status", status, "attempts", attempts or "0", "createdAt",
      createdAt or "", "startedAt", startedAt or "", "at", at)
  end
end

-- The store-wide totals, counted with the event itself: {p}:totals beside {p}:events (same
-- hash tag, so the same slot).
local function appendEvent(eventsKey, maxLen, id, name, queue, status, attempts, createdAt, startedAt, at, k1, v1, k2, v2)
  redis.call("HINCRBY", string.sub(eventsKey, 1, -7) .. "totals", status, 1)
  xaddEvent(eventsKey, maxLen, id, name, queue, status, attempts, createdAt, startedAt, at, k1, v1, k2, v2)
end

-- The same for the task in taskKey, reading its fields first.
local function emitEvent(eventsKey, maxLen, taskKey, status, at, k1, v1, k2, v2)
  local f = redis.call("HMGET", taskKey, "id", "name", "queue", "attempts", "createdAt", "startedAt")
  appendEvent(eventsKey, maxLen, f[1], f[2], f[3], status, f[4], f[5], f[6], at, k1, v1, k2, v2)
end
