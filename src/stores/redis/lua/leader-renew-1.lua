--[[
  Extends a leader lock, only while the caller still owns it (compare-and-set on the owner
  token), so a process whose lock expired and was taken over can never extend the new
  owner's lock. Also used to re-enter a lock this owner may still hold after it stepped down
  on a connection error.

  KEYS[1] leader lock          {p}:leader:<name>  (string: the owner token)

  ARGV[1] owner token
  ARGV[2] ttlMs, from Redis time now

  Returns 1 if the lock was extended, 0 if it is gone or held by another owner (nothing
  changes).
]]

if redis.call("GET", KEYS[1]) == ARGV[1] then
  redis.call("PEXPIRE", KEYS[1], ARGV[2])
  return 1
end
return 0
