-- @include time
-- @include event
-- @include flow
-- Moves a task to the dead-letter queue: status failed, last error kept, a "failed" event.
-- The caller has already taken it out of ready/delayed/leases. now in ms, nowUs in µs.
local function deadLetter(dlqKey, eventsKey, maxLen, taskKey, id, now, nowUs, errorJson)
  local at = digits(now)
  redis.call("HSET", taskKey, "status", "failed", "finishedAt", at, "error", errorJson)
  redis.call("HDEL", taskKey, "leaseUntil", "rm", "runAt")
  redis.call("ZADD", dlqKey, digits(nowUs), id)
  emitEvent(eventsKey, maxLen, taskKey, "failed", at, "error", errorJson, "finishedAt", at)
  -- A flow's node: its dependents are resolved in this same step.
  flowNodeEnded(stemOf(taskKey, id), maxLen, id, now, nowUs)
end
