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

-- A whole number as decimal text. Hot paths format a time once per call and pass the text:
-- Redis formats every number argument of redis.call with "%.17g" (glibc's multi-precision
-- path, measured at about a tenth of the claim script's CPU), and tostring rounds past 14
-- digits (microsecond scores have 16).
local function digits(n)
  return string.format("%d", n)
end
