-- Runs cmd with the items of list as arguments (after key, unless key is nil), at most step per
-- call (unpack has a stack limit; step must be even for score/member pairs).
local function batched(cmd, key, list, step)
  for i = 1, #list, step do
    local last = math.min(i + step - 1, #list)
    if key then
      redis.call(cmd, key, unpack(list, i, last))
    else
      redis.call(cmd, unpack(list, i, last))
    end
  end
end
