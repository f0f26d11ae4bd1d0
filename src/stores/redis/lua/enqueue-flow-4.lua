--[[
  Stores a flow in one atomic step: the flow hash and every node's task, all or nothing. A
  node without dependencies is stored as enqueue-many stores a task (ready or delayed); a node
  with dependencies is stored waiting, in no zset, until flowNodeEnded (includes/flow.lua)
  releases or cancels it. Flows take no idempotency keys: every id is new.

  KEYS[1] key stem             {p}:  (derives {p}:t:<id>, {p}:f:<flow id> and each task's
                                      {p}:q:<queue>:ready and :marker; same hash tag)
  KEYS[2] delayed zset         {p}:delayed
  KEYS[3] sequence counter     {p}:seq
  KEYS[4] queue-name set       {p}:queues

  ARGV[1]  flow id
  ARGV[2]  kind ("flow" | "batch")
  ARGV[3]  ttlMs: how long the flow hash is kept once every node ended (0 = no expiry)
  ARGV[4]  nodes JSON for snapshots: [[ref, id, name, dependsOn refs, policy], ...]
  ARGV[5]  n: how many nodes follow
  ARGV[6]  "1" when the engine generated the flow id and every node id just now (random
           UUIDs): no key can hold them, so they are not looked up; "0" checks each one
  ARGV[7 ..] n groups of 20 arguments: the 16 of enqueue (id, name, queue, payload, priority,
             delayMs, runAt, ttlMs, expiresAt, idempotency key, fingerprint, maxRetries,
             timeoutMs, retry, meta, claim spec), then ref, pending dependency count, policy
             ("cancel" | "run"), dependents' ids (space-separated)

  Returns 1 once stored; -7 (nothing written) if the flow id or a node's id is taken (only
  looked up when ARGV[6] is "0").
]]
-- @include time
-- @include batch
-- @include ready
-- @include wake
-- @include enqueue

local base, delayedKey, seqKey, queuesKey = KEYS[1], KEYS[2], KEYS[3], KEYS[4]
local flowId = ARGV[1]
local flowKey = base .. "f:" .. flowId
local n = tonumber(ARGV[5])
local FIRST, WIDTH = 6, 20

if ARGV[6] ~= "1" then
  if redis.call("EXISTS", flowKey) == 1 then
    return -7
  end
  for i = 1, n do
    if redis.call("EXISTS", base .. "t:" .. ARGV[FIRST + (i - 1) * WIDTH + 1]) == 1 then
      return -7
    end
  end
end

local now = nowMs()
local nowText = digits(now)
redis.call("HSET", flowKey, "kind", ARGV[2], "createdAt", nowText, "remaining", n, "total", n,
  "ttl", ARGV[3], "nodes", ARGV[4])
local queueNames, seen = {}, {}
for i = 1, n do
  local o = FIRST + (i - 1) * WIDTH
  local id, queue = ARGV[o + 1], ARGV[o + 3]
  local taskKey = base .. "t:" .. id
  local runAt, expiresAt, delayed = taskTimes(ARGV, o, now)
  local pending = tonumber(ARGV[o + 18])
  -- Written with the task's own fields, in its one HSET. flow packs the flow id, the
  -- dependents and the ref (see includes/flow.lua).
  local flowFields = { "flow", flowId .. "\0" .. ARGV[o + 20] .. "\0" .. ARGV[o + 17], "pend",
    pending, "policy", ARGV[o + 19] }
  if pending > 0 then
    storeTask(taskKey, ARGV, o, nowText, false, runAt, expiresAt, "", flowFields)
    -- The wait overwrites fields the task hash already holds (in place).
    redis.call("HSET", taskKey, "status", "waiting", "runAt", runAt and digits(runAt) or "")
  elseif delayed then
    storeTask(taskKey, ARGV, o, nowText, true, runAt, expiresAt, "", flowFields)
    redis.call("ZADD", delayedKey, digits(runAt), id)
    wake(base .. "q:" .. queue .. ":marker")
  else
    local member = readyMember(seqKey, id)
    storeTask(taskKey, ARGV, o, nowText, false, runAt, expiresAt, member, flowFields)
    redis.call("ZADD", base .. "q:" .. queue .. ":ready", -tonumber(ARGV[o + 5]), member)
    wake(base .. "q:" .. queue .. ":marker")
  end
  if not seen[queue] then
    seen[queue] = true
    queueNames[#queueNames + 1] = queue
  end
end
batched("SADD", queuesKey, queueNames, 1000)
return 1
