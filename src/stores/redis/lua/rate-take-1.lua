--[[
  The global rate bucket of the sharded layout, in the control shard, in its own step: a worker
  takes tokens BEFORE claiming from the task shards (no script spans two slots), claims at most
  that many, and gives back what it did not use. Same bucket as the claim script's (refilled
  from Redis time at perSecond, never above burst).

  KEYS[1] rate bucket hash     {p}:rate

  ARGV[1] tokens wanted (take) or tokens given back (give)
  ARGV[2] perSecond
  ARGV[3] burst
  ARGV[4] "take" or "give"
  ARGV[5] now in ms ("" = Redis time; tests pass their own clock)

  Returns { taken, waitMs }: tokens taken (0 for give) and, when fewer than wanted were left,
  the ms until the next whole token.
]]
-- @include time

local want, perSecond, burst = tonumber(ARGV[1]), tonumber(ARGV[2]), tonumber(ARGV[3])
local now = tonumber(ARGV[5]) or nowMs()
local st = redis.call("HMGET", KEYS[1], "tokens", "ts")
local tokens = tonumber(st[1]) or burst
local ts = tonumber(st[2]) or now
if now > ts then
  tokens = tokens + (now - ts) * perSecond / 1000
end
tokens = math.min(burst, tokens)
local taken, waitMs = 0, 0
if ARGV[4] == "give" then
  tokens = math.min(burst, tokens + want)
else
  -- The epsilon absorbs float dust so a token earned "exactly now" counts.
  taken = math.max(0, math.min(want, math.floor(tokens + 1e-9)))
  tokens = tokens - taken
  if taken < want then
    waitMs = math.ceil((1 - tokens) * 1000 / perSecond)
  end
end
redis.call("HSET", KEYS[1], "tokens", tostring(tokens), "ts", digits(math.max(now, ts)))
return { taken, waitMs }
