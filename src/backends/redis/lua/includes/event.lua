-- Appends one lifecycle event for the task in taskKey to the events stream (approximately
-- trimmed to maxLen). extra is a flat list of additional field/value pairs.
local function emitEvent(eventsKey, maxLen, taskKey, status, now, extra)
  local f = redis.call("HMGET", taskKey, "id", "name", "queue", "attempts", "createdAt", "startedAt")
  local fields = {
    "id", f[1] or "", "name", f[2] or "", "queue", f[3] or "", "status", status,
    "attempts", f[4] or "0", "createdAt", f[5] or "", "startedAt", f[6] or "",
    "at", tostring(now),
  }
  for i = 1, #extra do
    fields[#fields + 1] = extra[i]
  end
  redis.call("XADD", eventsKey, "MAXLEN", "~", maxLen, "*", unpack(fields))
end
