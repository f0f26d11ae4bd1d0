--[[
  Stores a new task and makes it ready (or delayed), honouring its idempotency key atomically.
  (enqueue-many stores several at once, all or nothing; both share includes/enqueue.lua.)

  KEYS[1] task hash            {p}:t:<id>
  KEYS[2] ready zset           {p}:q:<queue>:ready
  KEYS[3] delayed zset         {p}:delayed
  KEYS[4] sequence counter     {p}:seq
  KEYS[5] marker list          {p}:q:<queue>:marker
  KEYS[6] queue-name set       {p}:queues
  KEYS[7] idempotency key      {p}:idem:<key>  (the bare {p}:idem: stand-in when ARGV[10] is "")
  KEYS[8] key stem             {p}:  (derives the hash of an existing task holding the
                                      idempotency key; same hash tag, same slot)

  ARGV[1]  id
  ARGV[2]  name
  ARGV[3]  queue
  ARGV[4]  payload JSON ("" = no payload)
  ARGV[5]  priority (number)
  ARGV[6]  delayMs ("" = none), relative to Redis time
  ARGV[7]  runAt epoch ms ("" = none); wins over delayMs
  ARGV[8]  ttlMs ("" = none), relative to Redis time
  ARGV[9]  expiresAt epoch ms ("" = none); wins over ttlMs
  ARGV[10] idempotency key ("" = none)
  ARGV[11] fingerprint of name + payload ("" = not computed)
  ARGV[12] maxRetries ("" = unset)
  ARGV[13] timeoutMs ("" = unset)
  ARGV[14] retry settings JSON ("" = unset; opaque to Redis)
  ARGV[15] meta JSON ("" = unset; opaque to Redis, e.g. trace context)
  ARGV[16] claim spec JSON (opaque to Redis: what a claim returns packed in one field, see
           claimSpec in enqueue.ts)

  Returns { code, id, status }:
     1  created
     0  already there: the idempotency key (or the id) names a task with the same fingerprint
    -6  idempotency conflict: the key is held by task <id> with another fingerprint
    -7  the id is taken by a task with another fingerprint
]]
-- @include time
-- @include ready
-- @include wake
-- @include enqueue

local taskKey = KEYS[1]
local id = ARGV[1]

local code, holder, held = heldByKey(KEYS[8], KEYS[7], ARGV[10], ARGV[11])
if not code then
  code, holder, held = heldById(taskKey, id, ARGV[11])
end
if code then
  return { code, holder, held }
end

local now = nowMs()
local runAt, expiresAt, delayed = taskTimes(ARGV, 0, now)
local member = ""
if not delayed then
  member = readyMember(KEYS[4], id)
end
local status = storeTask(taskKey, ARGV, 0, digits(now), delayed, runAt, expiresAt, member)
redis.call("SADD", KEYS[6], ARGV[3])
if ARGV[10] ~= "" then
  redis.call("SET", KEYS[7], id)
end

if delayed then
  local head = redis.call("ZRANGE", KEYS[3], 0, 0, "WITHSCORES")
  redis.call("ZADD", KEYS[3], runAt, id)
  -- Only a new earliest due time changes how long blocked workers should sleep.
  if head[2] == nil or runAt < tonumber(head[2]) then
    wake(KEYS[5])
  end
else
  redis.call("ZADD", KEYS[2], -tonumber(ARGV[5]), member)
  wake(KEYS[5])
end
return { 1, id, status }
