--[[
  Stores a new task and makes it ready (or delayed), honouring its idempotency key atomically.

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

local taskKey = KEYS[1]
local id, idem, fp = ARGV[1], ARGV[10], ARGV[11]

if idem ~= "" then
  local holder = redis.call("GET", KEYS[7])
  if holder then
    local held = redis.call("HMGET", KEYS[8] .. "t:" .. holder, "fp", "status")
    if held[2] then
      if (held[1] or "") == fp then
        return { 0, holder, held[2] }
      end
      return { -6, holder, held[2] }
    end
    -- The holder was evicted: the key is free again.
  end
end

local existing = redis.call("HMGET", taskKey, "fp", "status")
if existing[2] then
  if (existing[1] or "") == fp then
    return { 0, id, existing[2] }
  end
  return { -7, id, existing[2] }
end

local now = nowMs()
local runAt = tonumber(ARGV[7])
if runAt == nil and ARGV[6] ~= "" then
  runAt = now + tonumber(ARGV[6])
end
local expiresAt = tonumber(ARGV[9])
if expiresAt == nil and ARGV[8] ~= "" then
  expiresAt = now + tonumber(ARGV[8])
end

local status = "queued"
local delayed = runAt and runAt > now
local member = ""
if delayed then
  status = "scheduled"
else
  member = readyMember(KEYS[4], id)
end
-- The whole hash in one HSET. The fields every claim and ack read or write come first and
-- exist from the start ("" reads as absent): Redis finds a field of a small hash by scanning
-- it from the front, and a field that exists is overwritten in place instead of appended.
local fields = { "status", status, "token", "", "outcome", "", "attempts", "0", "deliveries", "0",
  "startedAt", "", "createdAt", digits(now), "rm", member, "leaseUntil", "",
  "runAt", delayed and runAt or "", "expiresAt", expiresAt or "",
  "finishedAt", "", "error", "", "name", ARGV[2], "queue", ARGV[3], "spec", ARGV[16] or "",
  "payload", ARGV[4], "id", id, "priority", ARGV[5] }
local optional = { "idem", idem, "fp", fp, "maxRetries", ARGV[12], "timeoutMs", ARGV[13],
  "retry", ARGV[14], "meta", ARGV[15] }
for i = 1, #optional, 2 do
  if optional[i + 1] ~= "" then
    fields[#fields + 1] = optional[i]
    fields[#fields + 1] = optional[i + 1]
  end
end
redis.call("HSET", taskKey, unpack(fields))
redis.call("SADD", KEYS[6], ARGV[3])
if idem ~= "" then
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
