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
  ARGV[5]  "1" when the engine generated the flow id and every node id just now (random
           UUIDs): no key can hold them, so they are not looked up; "0" checks each one
  ARGV[6]  the nodes, JSON: an array with per node an array of 20 strings: the 16 arguments
           of enqueue (id, name, queue, payload, priority, delayMs, runAt, ttlMs, expiresAt,
           idempotency key, fingerprint, maxRetries, timeoutMs, retry, meta, claim spec),
           then ref, pending dependency count, policy ("cancel" | "run"), dependents' ids
           (space-separated). One argument instead of 20 per node: the client builds and
           writes a flow's command much faster, and cjson decodes it in C.

  Returns 1 once stored; -7 (nothing written) if the flow id or a node's id is taken (only
  looked up when ARGV[5] is "0").
]]
-- @include time
-- @include batch
-- @include ready
-- @include wake
-- @include enqueue

local base, delayedKey, seqKey, queuesKey = KEYS[1], KEYS[2], KEYS[3], KEYS[4]
local flowId = ARGV[1]
local flowKey = base .. "f:" .. flowId
local nodes = cjson.decode(ARGV[6])
local n = #nodes

if ARGV[5] ~= "1" then
  if redis.call("EXISTS", flowKey) == 1 then
    return -7
  end
  for i = 1, n do
    if redis.call("EXISTS", base .. "t:" .. nodes[i][1]) == 1 then
      return -7
    end
  end
end

local now = nowMs()
local nowText = digits(now)
-- Exactly FLOW_FIELDS fields (includes/flow.lua counts ended nodes by HLEN beyond them).
redis.call("HSET", flowKey, "kind", ARGV[2], "createdAt", nowText, "total", n, "ttl", ARGV[3],
  "nodes", ARGV[4])
local queueNames, seen = {}, {}
for i = 1, n do
  -- A node's array holds its task at a[1 .. 16], as enqueue's ARGV (see storeTask).
  local a = nodes[i]
  local id, queue = a[1], a[3]
  local taskKey = base .. "t:" .. id
  local runAt, expiresAt, delayed = taskTimes(a, 0, now)
  local pending = tonumber(a[18])
  -- Written with the task's own fields, in its one HSET. flow packs the flow id, the
  -- dependents and the ref (see includes/flow.lua).
  local flowFields = { "flow", flowId .. "\0" .. a[20] .. "\0" .. a[17], "pend", a[18],
    "policy", a[19] }
  if pending > 0 then
    storeTask(taskKey, a, 0, nowText, false, runAt, expiresAt, "", flowFields)
    -- The wait overwrites fields the task hash already holds (in place).
    redis.call("HSET", taskKey, "status", "waiting", "runAt", runAt and digits(runAt) or "")
  elseif delayed then
    storeTask(taskKey, a, 0, nowText, true, runAt, expiresAt, "", flowFields)
    redis.call("ZADD", delayedKey, digits(runAt), id)
    wake(base .. "q:" .. queue .. ":marker")
  else
    local member = readyMember(seqKey, id)
    storeTask(taskKey, a, 0, nowText, false, runAt, expiresAt, member, flowFields)
    redis.call("ZADD", base .. "q:" .. queue .. ":ready", -tonumber(a[5]), member)
    wake(base .. "q:" .. queue .. ":marker")
  end
  if not seen[queue] then
    seen[queue] = true
    queueNames[#queueNames + 1] = queue
  end
end
batched("SADD", queuesKey, queueNames, 1000)
return 1
