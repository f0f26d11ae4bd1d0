--[[
  Releases a leader lock, only if the caller still owns it (compare-and-set on the owner
  token): a process whose lock already expired and was taken over never deletes the new
  owner's lock.

  KEYS[1] leader lock          {p}:leader:<name>  (string: the owner token)

  ARGV[1] owner token

  Returns 1 if the lock was deleted, 0 if it is gone or held by another owner (nothing
  changes).
]]

if redis.call("GET", KEYS[1]) == ARGV[1] then
  redis.call("DEL", KEYS[1])
  return 1
end
return 0
