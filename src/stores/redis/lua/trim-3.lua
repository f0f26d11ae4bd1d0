--[[
  Applies retention outside of acks: evicts finished records and dead letters past their age
  or count bound. Acks, fails and cancels trim eagerly; this catches up when time alone makes
  records old. Evicting deletes the task hash and its idempotency key.

  KEYS[1] finished zset        {p}:finished
  KEYS[2] dead-letter zset     {p}:dlq
  KEYS[3] key stem             {p}:  (derives {p}:t:<id> and {p}:idem:<key>; same hash tag)

  ARGV[1] finished: ttlMs (0 = none)
  ARGV[2] finished: maxEntries (-1 = none)
  ARGV[3] dead letters: ttlMs (0 = none)
  ARGV[4] dead letters: maxEntries (-1 = none)
  ARGV[5] budget per set per call

  Returns { finishedEvicted, deadLettersEvicted }.
]]
-- @include time
-- @include evict

local _, nowUs = clock()
local budget = tonumber(ARGV[5])
local finished = trimSet(KEYS[1], KEYS[3], nowUs, tonumber(ARGV[1]), tonumber(ARGV[2]), budget)
local dead = trimSet(KEYS[2], KEYS[3], nowUs, tonumber(ARGV[3]), tonumber(ARGV[4]), budget)
return { finished, dead }
