-- Puts a task into a ready zset. Score -priority puts higher priorities first; the member
-- "<16-digit global sequence>:<id>" keeps equal priorities FIFO (zsets order equal scores
-- lexicographically). The member is remembered in the hash (field rm) so cancel can remove it.
local function pushReady(readyKey, seqKey, taskKey, id, priority)
  local seq = redis.call("INCR", seqKey)
  local member = string.format("%016d", seq) .. ":" .. id
  redis.call("ZADD", readyKey, -tonumber(priority), member)
  redis.call("HSET", taskKey, "rm", member)
  return member
end
