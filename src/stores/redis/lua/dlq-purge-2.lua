--[[
  Deletes dead letters for good: the DLQ entry, the task hash and its idempotency key. Ids that
  are not in the dead-letter queue are skipped (a purge never deletes a live task).

  KEYS[1] dead-letter zset     {p}:dlq
  KEYS[2] key stem             {p}:  (derives {p}:t:<id> and {p}:idem:<key>; same hash tag)

  ARGV[1..] task ids

  Returns the ids purged, in argument order.
]]
-- @include evict

local purged = {}
for i = 1, #ARGV do
  local id = ARGV[i]
  if redis.call("ZREM", KEYS[1], id) == 1 then
    evictTask(KEYS[2], id)
    purged[#purged + 1] = id
  end
end
return purged
