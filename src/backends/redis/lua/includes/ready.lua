-- Ready zsets. Score -priority puts higher priorities first; the member "<16-digit global
-- sequence>:<id>" keeps equal priorities FIFO (zsets order equal scores lexicographically).
-- The member is remembered in the hash (field rm) so cancel can remove it.
local function readyMember(seqKey, id)
  return string.format("%016d", redis.call("INCR", seqKey)) .. ":" .. id
end

-- Puts a stored task into a ready zset.
local function pushReady(readyKey, seqKey, taskKey, id, priority)
  local member = readyMember(seqKey, id)
  redis.call("ZADD", readyKey, -tonumber(priority), member)
  redis.call("HSET", taskKey, "rm", member)
  return member
end
