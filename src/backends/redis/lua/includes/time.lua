-- Redis server time, the only clock the scripts use, so workers with skewed clocks still agree
-- on due times, leases and the rate bucket. Returns whole milliseconds (stored times, due
-- times, leases) and microseconds (scores of the finished and dlq zsets, so records of one
-- millisecond keep their order; exact in a double until the year 2255).
local function clock()
  local t = redis.call("TIME")
  local us = tonumber(t[1]) * 1000000 + tonumber(t[2])
  return math.floor(us / 1000), us
end

local function nowMs()
  local ms = clock()
  return ms
end
