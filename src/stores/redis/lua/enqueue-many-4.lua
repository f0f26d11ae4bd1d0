--[[
  Stores several tasks in one atomic step, all or nothing. First every task is checked (its
  idempotency key, then its id, against Redis and against the tasks before it in this call);
  a conflict refuses the whole call before anything is written. Then every new task is stored
  as enqueue stores one (same hash, see includes/enqueue.lua), in argument order: FIFO order
  within a priority follows the arguments.

  The outcome per task is what enqueue would answer if the tasks were enqueued one after the
  other: a task whose idempotency key (or id) names an existing task with the same name and
  payload gets that task (code 0), including a task of this same call further up (the second
  of two tasks with one key gets the first).

  KEYS[1] key stem             {p}:  (derives {p}:t:<id>, {p}:idem:<key> and each task's
                                      {p}:q:<queue>:ready and :marker; same hash tag)
  KEYS[2] delayed zset         {p}:delayed
  KEYS[3] sequence counter     {p}:seq
  KEYS[4] queue-name set       {p}:queues

  ARGV[1]  n: how many tasks follow
  ARGV[2 ..] n groups of 16 arguments, each one task in the order of enqueue's ARGV[1..16]
             (id, name, queue, payload, priority, delayMs, runAt, ttlMs, expiresAt,
             idempotency key, fingerprint, maxRetries, timeoutMs, retry, meta, claim spec)

  Returns, when every task passed its check: { 1, flags, id, status, id, status, ... }, flags
  one character per task in argument order (a reply of 60,000 strings for 20,000 tasks cost
  both sides more than the writes; the client knows the ids it sent):
     q  created, queued (its id is its own)
     s  created, scheduled (same)
     e  already there: the next id, status pair of the reply names the task it stands for
        (in Redis, or created by an earlier task of this call)
  When a task is refused, nothing was written: { code, i, holderId }, i the task's position
  (1-based):
    -6  idempotency conflict: its key is held by task holderId (in Redis, or an earlier task
        of this call) with another name or payload
    -7  its id is taken by task holderId (same) with another name or payload
]]
-- @include time
-- @include batch
-- @include ready
-- @include wake
-- @include enqueue

local base, delayedKey, seqKey, queuesKey = KEYS[1], KEYS[2], KEYS[3], KEYS[4]
local n = tonumber(ARGV[1])
local WIDTH = 16

-- 1. Checks, nothing written, in the order enqueue checks (the key, then the id), each against
-- Redis and then against the earlier tasks of this call. fresh[i] is true for a task this call
-- creates; for one that names an existing task, same[i] is the index of an earlier task of this
-- call, or { id, status } of a stored one.
local fresh, same = {}, {}
local byIdem, byId = {}, {}
local function fpOf(j)
  return ARGV[1 + (j - 1) * WIDTH + 11]
end
local function idOf(j)
  return ARGV[1 + (j - 1) * WIDTH + 1]
end
for i = 1, n do
  local o = 1 + (i - 1) * WIDTH
  local id, idem, fp = ARGV[o + 1], ARGV[o + 10], ARGV[o + 11]
  local code, holder, held = heldByKey(base, base .. "idem:" .. idem, idem, fp)
  local earlier = nil
  if not code and idem ~= "" and byIdem[idem] then
    earlier = byIdem[idem]
    code, holder = -6, idOf(earlier)
  end
  if not code then
    code, holder, held = heldById(base .. "t:" .. id, id, fp)
  end
  if not code and byId[id] then
    earlier = byId[id]
    code, holder = -7, id
  end
  if earlier and fpOf(earlier) == fp then
    code = 0
  end
  if not code then
    fresh[i] = true
    byId[id] = i
    if idem ~= "" then
      byIdem[idem] = i
    end
  elseif code == 0 then
    same[i] = earlier or { holder, held }
  else
    return { code, i, holder }
  end
end

-- 2. Writes. Sequence numbers for every ready task in one INCRBY; per queue one ZADD of its
-- ready members and one wake-up; one SADD of the queue names; one ZADD of the delayed tasks.
local now = nowMs()
local nowText = digits(now)
local times = {}
local readyCount = 0
for i = 1, n do
  if fresh[i] then
    local runAt, expiresAt, delayed = taskTimes(ARGV, 1 + (i - 1) * WIDTH, now)
    times[i] = { runAt, expiresAt, delayed }
    if not delayed then
      readyCount = readyCount + 1
    end
  end
end
local seq = 0
if readyCount > 0 then
  seq = redis.call("INCRBY", seqKey, readyCount) - readyCount
end

local statuses = {}
local queueNames, ready, wakes = {}, {}, {}
local due = {}
local head = redis.call("ZRANGE", delayedKey, 0, 0, "WITHSCORES")[2]
head = head and tonumber(head)
for i = 1, n do
  if fresh[i] then
    local o = 1 + (i - 1) * WIDTH
    local id, queue, idem = ARGV[o + 1], ARGV[o + 3], ARGV[o + 10]
    local runAt, expiresAt, delayed = times[i][1], times[i][2], times[i][3]
    local member = ""
    if not delayed then
      seq = seq + 1
      member = readyMemberAt(seq, id)
    end
    statuses[i] = storeTask(base .. "t:" .. id, ARGV, o, nowText, delayed, runAt, expiresAt, member)
    if idem ~= "" then
      redis.call("SET", base .. "idem:" .. idem, id)
    end
    if not ready[queue] then
      ready[queue] = {}
      queueNames[#queueNames + 1] = queue
    end
    if delayed then
      due[#due + 1] = runAt
      due[#due + 1] = id
      -- As enqueue: only a new earliest due time wakes the queue's blocked workers.
      if head == nil or runAt < head then
        head = runAt
        wakes[queue] = true
      end
    else
      local members = ready[queue]
      members[#members + 1] = -tonumber(ARGV[o + 5])
      members[#members + 1] = member
      wakes[queue] = true
    end
  end
end
if #queueNames > 0 then
  batched("SADD", queuesKey, queueNames, 1000)
end
batched("ZADD", delayedKey, due, 1000)
for _, queue in ipairs(queueNames) do
  batched("ZADD", base .. "q:" .. queue .. ":ready", ready[queue], 1000)
  if wakes[queue] then
    wake(base .. "q:" .. queue .. ":marker")
  end
end

-- 3. The reply: one flag per task; an id, status pair per task that names another.
local flags, named = {}, { 1, "" }
for i = 1, n do
  if fresh[i] then
    flags[i] = statuses[i] == "queued" and "q" or "s"
  else
    local s = same[i]
    flags[i] = "e"
    if type(s) == "number" then
      named[#named + 1] = idOf(s)
      named[#named + 1] = statuses[s]
    else
      named[#named + 1] = s[1]
      named[#named + 1] = s[2]
    end
  end
end
named[2] = table.concat(flags)
return named
