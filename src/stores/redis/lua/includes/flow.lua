-- @include time
-- @include batch
-- @include ready
-- @include wake
-- @include event
-- Flows: what happens to a flow's other nodes when one of its tasks ends, called by every
-- script that writes a terminal status (complete, deadLetter, cancel, claim's expiry) right
-- after that write, in the same script: there is no moment where a node has ended and its
-- dependents have not been resolved, whatever crashes.
--
-- A node's hash holds, besides the task: flow, pend (dependencies not ended yet), policy
-- ("cancel" | "run") and deps, the outcomes of the dependencies ended so far (a JSON object by
-- ref, grown as each ends): a node carries the outcomes it will see, so it never needs its
-- dependencies' records (retention may evict those). flow packs what never changes and what an
-- ending node needs: "<flow id>\0<dependents' task ids, space-separated>\0<ref>", so an ack,
-- which reads flow anyway (complete.lua), resolves the node without reading its hash again.
-- The flow hash {p}:f:<flow id> holds exactly the FLOW_FIELDS kind, createdAt, total, ttl and
-- nodes (JSON, for snapshots, with each node's dependsOn), and o:<ref> = each ended node's
-- outcome (flow.result()), written once per node: HLEN - FLOW_FIELDS is how many have ended.
-- (A flow stored by an earlier version has a remaining counter instead, counted down per node.)
local FLOW_FIELDS = 5

-- A node's flow field as flow id, dependents (space-separated ids), ref and whether it was
-- packed. A node stored by an earlier version (flow id alone, ref and dependents in their own
-- fields) is read from taskKey.
local function flowField(taskKey, value)
  local a = string.find(value, "\0", 1, true)
  if not a then
    local old = redis.call("HMGET", taskKey, "dependents", "ref")
    return value, old[1] or "", old[2] or "", false
  end
  local b = string.find(value, "\0", a + 1, true)
  return string.sub(value, 1, a - 1), string.sub(value, a + 1, b - 1), string.sub(value, b + 1),
    true
end

-- The flow's hash is kept retention.ttlMs (0 = for good) once its last node ended.
local function flowDone(flowKey, ttlText)
  local ttl = tonumber(ttlText or "0") or 0
  if ttl > 0 then
    redis.call("PEXPIRE", flowKey, ttl)
  end
end

-- A terminal task's outcome as JSON text, from its stored value and error JSON.
local function outcomeJson(status, valueJson, errorJson)
  if status == "succeeded" then
    if valueJson and valueJson ~= "" then
      return '{"status":"succeeded","value":' .. valueJson .. '}'
    end
    return '{"status":"succeeded"}'
  end
  if errorJson and errorJson ~= "" then
    return '{"status":"' .. status .. '","error":' .. errorJson .. '}'
  end
  return '{"status":"' .. status .. '"}'
end

-- The queues whose marker a release already left a wake-up token on in this script run: the
-- token cannot be taken within the run (workers take it with BLPOP), so the releases of
-- several nodes ended in one step (a claim's acks) check each marker once. (A local of the
-- script body: every run starts with it empty.)
local flowWoken = {}
local function wakeOnce(markerKey)
  if not flowWoken[markerKey] then
    flowWoken[markerKey] = true
    wake(markerKey)
  end
end

-- A node whose last dependency ended and whose own delay has passed: released as queued,
-- with deps (its dependencies' outcomes, gathered as each one ended) for the claim to hand out.
-- The releases of one flowNodeEnded call are collected (released) and written together by
-- releaseReady: one INCRBY reserves their ready sequence numbers (in the order released: FIFO
-- as before), one ZADD and one wake-up per queue. A fan-out's root releases all its children in
-- one call.
local function releaseReady(base, released)
  local n = #released
  if n == 0 then
    return
  end
  local seq = redis.call("INCRBY", base .. "seq", n) - n
  local byQueue, queues = {}, {}
  for j = 1, n do
    local r = released[j]
    local member = readyMemberAt(seq + j, r[2])
    -- One HSET: the ready member (rm, see ready.lua) is written with the status.
    redis.call("HSET", r[1], "status", "queued", "runAt", "", "rm", member, "deps", r[5],
      "pend", 0)
    local scored = byQueue[r[3]]
    if not scored then
      scored = {}
      byQueue[r[3]] = scored
      queues[#queues + 1] = r[3]
    end
    scored[#scored + 1] = -tonumber(r[4])
    scored[#scored + 1] = member
  end
  for _, queue in ipairs(queues) do
    batched("ZADD", base .. "q:" .. queue .. ":ready", byQueue[queue], 1000)
    wakeOnce(base .. "q:" .. queue .. ":marker")
  end
end

-- The same for a node whose own delay has not passed yet: waiting -> scheduled, due in the
-- delayed zset.
local function releaseDelayed(base, taskKey, id, queue, due, deps)
  redis.call("HSET", taskKey, "status", "scheduled", "deps", deps, "pend", 0)
  redis.call("ZADD", base .. "delayed", digits(due), id)
  wakeOnce(base .. "q:" .. queue .. ":marker")
end

-- deps (a JSON object by ref, or empty) with ref's outcome added.
local function withDependency(deps, ref, outcome)
  local entry = cjson.encode(ref) .. ":" .. outcome
  if not deps or deps == "" then
    return "{" .. entry .. "}"
  end
  return string.sub(deps, 1, -2) .. "," .. entry .. "}"
end

-- The task id just ended (its terminal status and outcome already written). Resolves its
-- dependents: each records the outcome; a "cancel" dependent of a node that did not succeed
-- ends cancelled (and is resolved in turn, iteratively); one whose last dependency this was is
-- released. Counts the node out of its flow once (a DLQ replay may end a task twice). Does
-- nothing for a task outside flows. maxLen is the events stream's MAXLEN ~. now and nowUs are
-- the caller's clock (see time.lua), read once per script instead of once per ended node; a
-- caller without them (nil) leaves the reading to this function, when it needs one. A caller
-- that just acked id passes the flow field it read (acked) and the value it stored (value, ""
-- for none): the node's status, value and flow are then known without a read.
local function flowNodeEnded(base, maxLen, id, now, nowUs, acked, value)
  local work = { id }
  local released = {}
  local i = 1
  while i <= #work do
    local nid = work[i]
    local taskKey = base .. "t:" .. nid
    local f
    if i == 1 and acked then
      f = { acked, "succeeded", value, "" }
    else
      f = redis.call("HMGET", taskKey, "flow", "status", "value", "error")
    end
    i = i + 1
    if f[1] and f[1] ~= "" then
      local flowId, dependents, ref, packed = flowField(taskKey, f[1])
      local flowKey = base .. "f:" .. flowId
      local outcome = outcomeJson(f[2], f[3], f[4])
      if redis.call("HSETNX", flowKey, "o:" .. ref, outcome) == 1 then
        if not now then
          now, nowUs = clock()
        end
        local failed = f[2] ~= "succeeded"
        -- A dependent still waiting (or released now) has not ended: this node is not the
        -- flow's last, so the count of ended nodes need not be looked at. The last node to end
        -- has none (every other node ended), so it always looks.
        local live = false
        for did in string.gmatch(dependents, "[^ ]+") do
          local dkey = base .. "t:" .. did
          local d = redis.call("HMGET", dkey, "status", "policy", "queue", "priority", "runAt",
            "pend", "deps")
          if d[1] == "waiting" then
            local deps = withDependency(d[7], ref, outcome)
            local pend = (tonumber(d[6]) or 1) - 1
            if failed and d[2] ~= "run" then
              if not nowUs then
                local _, us = clock()
                nowUs = us
              end
              local at = digits(now)
              local errorJson = cjson.encode({
                name = "CancelledError", code = "ERR_CANCELLED", reason = "dependency",
                message = 'The task was cancelled because its dependency "' .. ref
                  .. '" did not succeed (onDependencyFailure: "cancel")',
              })
              redis.call("HSET", dkey, "status", "cancelled", "finishedAt", at, "error", errorJson,
                "runAt", "")
              redis.call("ZADD", base .. "finished", digits(nowUs), did)
              emitEvent(base .. "events", maxLen, dkey, "cancelled", at, "error", errorJson,
                "finishedAt", at)
              work[#work + 1] = did
            elseif pend <= 0 then
              live = true
              local due = tonumber(d[5] or "")
              if due and due > now then
                releaseDelayed(base, dkey, did, d[3], due, deps)
              else
                released[#released + 1] = { dkey, did, d[3], d[4], deps }
              end
            else
              live = true
              redis.call("HSET", dkey, "deps", deps, "pend", pend)
            end
          end
        end
        if not packed then
          if redis.call("HINCRBY", flowKey, "remaining", -1) <= 0 then
            flowDone(flowKey, redis.call("HGET", flowKey, "ttl"))
          end
        elseif not live then
          local t = redis.call("HMGET", flowKey, "total", "ttl")
          if redis.call("HLEN", flowKey) - FLOW_FIELDS >= tonumber(t[1]) then
            flowDone(flowKey, t[2])
          end
        end
      end
    end
  end
  releaseReady(base, released)
end

-- The key stem of a task key built as stem .. "t:" .. id.
local function stemOf(taskKey, id)
  return string.sub(taskKey, 1, #taskKey - #id - 2)
end
