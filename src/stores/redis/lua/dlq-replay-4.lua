--[[
  Re-opens dead letters under the same id: failed -> queued, back into their ready queue with
  a fresh FIFO position, deliveries reset (and attempts, when asked), a "queued" event with
  reason "replay". The last error stays on the task until it succeeds. Ids that are not in the
  dead-letter queue are skipped.

  KEYS[1] dead-letter zset     {p}:dlq
  KEYS[2] sequence counter     {p}:seq
  KEYS[3] events stream        {p}:events
  KEYS[4] key stem             {p}:  (derives {p}:t:<id> and each task's ready and marker
                                      keys; same hash tag)

  ARGV[1]  "1" to reset attempts to 0, "0" to keep them
  ARGV[2]  events MAXLEN ~
  ARGV[3..] task ids

  Returns the ids replayed, in argument order.
]]
-- @include time
-- @include ready
-- @include wake
-- @include event

local dlqKey, base = KEYS[1], KEYS[4]
local now = nowMs()
local replayed = {}
for i = 3, #ARGV do
  local id = ARGV[i]
  if redis.call("ZSCORE", dlqKey, id) then
    redis.call("ZREM", dlqKey, id)
    local taskKey = base .. "t:" .. id
    local f = redis.call("HMGET", taskKey, "status", "queue", "priority")
    if f[1] == "failed" then
      redis.call("HSET", taskKey, "status", "queued", "deliveries", 0)
      if ARGV[1] == "1" then
        redis.call("HSET", taskKey, "attempts", 0)
      end
      redis.call("HDEL", taskKey, "finishedAt", "leaseUntil", "runAt")
      pushReady(base .. "q:" .. f[2] .. ":ready", KEYS[2], taskKey, id, f[3])
      wake(base .. "q:" .. f[2] .. ":marker")
      emitEvent(KEYS[3], ARGV[2], taskKey, "queued", digits(now), "reason", "replay")
      replayed[#replayed + 1] = id
    end
  end
end
return replayed
