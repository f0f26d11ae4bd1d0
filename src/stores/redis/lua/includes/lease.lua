-- Lease checks. A caller holds a task's lease when its fencing token is the task's current one
-- and the task still runs. leaseRefusal works on fields the caller already read (status, token,
-- outcome); checkLease reads them. Both return nil when the caller holds the lease; otherwise
-- the value the script must return:
--   > 0 the same outcome (kind) was already recorded under this token: a retried call whose
--       first reply was lost (e.g. a dropped connection). Its result is returned again and
--       nothing changes, so ack, nack and fail are idempotent per token.
--   -1 the task does not exist (purged or evicted)
--   -2 another claim holds the task now (the token is stale)
--   -3 the task was cancelled
--   -4 the task is no longer running (its expired lease was reclaimed, or it finished)
-- kind is "ack", "nack" or "fail" (nil for renew). A claim sets outcome to "", so an outcome
-- recorded under an earlier token never answers for a later one.
local function leaseRefusal(status, current, outcome, token, kind)
  if not status then
    return -1
  end
  if current ~= token then
    return -2
  end
  if kind and outcome and outcome ~= "" then
    local done, value = string.match(outcome, "^(%a+):(%d+)$")
    if done == kind then
      return tonumber(value)
    end
  end
  if status == "cancelled" then
    return -3
  end
  if status ~= "running" then
    return -4
  end
  return nil
end

local function checkLease(taskKey, token, kind)
  local f = redis.call("HMGET", taskKey, "status", "token", "outcome")
  return leaseRefusal(f[1], f[2], f[3], token, kind)
end

-- Records the outcome of this lease (see leaseRefusal).
local function recordOutcome(taskKey, kind, value)
  redis.call("HSET", taskKey, "outcome", kind .. ":" .. value)
end
