-- Ready zsets. Score -priority puts higher priorities first; the member "<16-digit global
-- sequence>:<id>" keeps equal priorities FIFO (zsets order equal scores lexicographically).
-- The member is remembered in the hash (field rm) so cancel can remove it.

-- The member for sequence number seq (a caller that reserves several numbers with one INCRBY).
local function readyMemberAt(seq, id)
  return string.format("%016d", seq) .. ":" .. id
end

local function readyMember(seqKey, id)
  return readyMemberAt(redis.call("INCR", seqKey), id)
end

-- Puts a stored task into a ready zset.
local function pushReady(readyKey, seqKey, taskKey, id, priority)
  local member = readyMember(seqKey, id)
  redis.call("ZADD", readyKey, -tonumber(priority), member)
  redis.call("HSET", taskKey, "rm", member)
  return member
end
