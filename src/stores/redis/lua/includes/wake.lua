-- Leaves one wake-up token on a queue's marker list. At most one token is kept: a woken worker
-- claims what it can and, if work is left, passes the token on (see claim), so a burst wakes
-- workers in a chain without the list growing while everyone is busy.
local function wake(markerKey)
  if redis.call("LLEN", markerKey) == 0 then
    redis.call("LPUSH", markerKey, "1")
  end
end
