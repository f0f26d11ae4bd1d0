-- Checks that token is the task's current fencing token and the task is still running.
-- Returns nil when the caller holds the lease; otherwise the value the script must return:
--   > 0 the same outcome (kind) was already recorded under this token: a retried call whose
--       first reply was lost (e.g. a dropped connection). Its result is returned again and
--       nothing changes, so ack, nack and fail are idempotent per token.
--   -1 the task does not exist (purged or evicted)
--   -2 another claim holds the task now (the token is stale)
--   -3 the task was cancelled
--   -4 the task is no longer running (its expired lease was reclaimed, or it finished)
-- kind is "ack", "nack" or "fail" (nil for renew).
local function checkLease(taskKey, token, kind)
  local f = redis.call("HMGET", taskKey, "status", "token", "outcome")
  if not f[1] then
    return -1
  end
  if f[2] ~= token then
    return -2
  end
  if kind and f[3] then
    local done, value = string.match(f[3], "^(%a+):(%d+)$")
    if done == kind then
      return tonumber(value)
    end
  end
  if f[1] == "cancelled" then
    return -3
  end
  if f[1] ~= "running" then
    return -4
  end
  return nil
end

-- Records the outcome of this lease (see checkLease).
local function recordOutcome(taskKey, kind, value)
  redis.call("HSET", taskKey, "outcome", kind .. ":" .. value)
end
