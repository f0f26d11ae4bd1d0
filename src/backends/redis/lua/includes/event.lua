-- Appends one lifecycle event to the events stream (approximately trimmed to maxLen), from
-- fields the caller already holds. extra is a flat list of additional field/value pairs.
local function appendEvent(eventsKey, maxLen, id, name, queue, status, attempts, createdAt, startedAt, now, extra)
  local fields = {
    "id", id or "", "name", name or "", "queue", queue or "", "status", status,
    "attempts", attempts or "0", "createdAt", createdAt or "", "startedAt", startedAt or "",
    "at", tostring(now),
  }
  for i = 1, #extra do
    fields[#fields + 1] = extra[i]
  end
  redis.call("XADD", eventsKey, "MAXLEN", "~", maxLen, "*", unpack(fields))
end

-- The same for the task in taskKey, reading its fields first.
local function emitEvent(eventsKey, maxLen, taskKey, status, now, extra)
  local f = redis.call("HMGET", taskKey, "id", "name", "queue", "attempts", "createdAt", "startedAt")
  appendEvent(eventsKey, maxLen, f[1], f[2], f[3], status, f[4], f[5], f[6], now, extra)
end
