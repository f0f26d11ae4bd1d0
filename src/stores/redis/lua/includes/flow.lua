-- @include time
-- @include ready
-- @include wake
-- @include event
-- Flows: what happens to a flow's other nodes when one of its tasks ends, called by every
-- script that writes a terminal status (complete, deadLetter, cancel, claim's expiry) right
-- after that write, in the same script: there is no moment where a node has ended and its
-- dependents have not been resolved, whatever crashes.
--
-- A node's hash holds, besides the task: flow (flow id), ref, pend (dependencies not ended
-- yet), policy ("cancel" | "run"), dependents (their task ids, space-separated) and deps, the
-- outcomes of the dependencies ended so far (a JSON object by ref, grown as each ends): a node
-- carries the outcomes it will see, so it never needs its dependencies' records (retention may
-- evict those). The flow hash {p}:f:<flow id> holds kind, createdAt, remaining, ttl, nodes
-- (JSON, for snapshots, with each node's dependsOn) and o:<ref> = each ended node's outcome
-- (flow.result()).

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

-- A node whose last dependency ended: waiting -> queued (or scheduled while its own delay
-- has not passed), with deps, its dependencies' outcomes (gathered as each one ended), for the
-- claim to hand out. One HSET: the ready member (rm, see ready.lua) is written with the status.
local function releaseNode(base, taskKey, id, queue, priority, runAt, deps, now)
  local due = tonumber(runAt or "")
  if due and due > now then
    redis.call("HSET", taskKey, "status", "scheduled", "deps", deps, "pend", 0)
    redis.call("ZADD", base .. "delayed", digits(due), id)
  else
    local member = readyMember(base .. "seq", id)
    redis.call("HSET", taskKey, "status", "queued", "runAt", "", "rm", member, "deps", deps,
      "pend", 0)
    redis.call("ZADD", base .. "q:" .. queue .. ":ready", -tonumber(priority), member)
  end
  wake(base .. "q:" .. queue .. ":marker")
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
-- caller without them (nil) leaves the reading to this function, when it needs one.
local function flowNodeEnded(base, maxLen, id, now, nowUs)
  local work = { id }
  local i = 1
  while i <= #work do
    local nid = work[i]
    i = i + 1
    local taskKey = base .. "t:" .. nid
    local f = redis.call("HMGET", taskKey, "flow", "ref", "dependents", "status", "value", "error")
    if f[1] and f[1] ~= "" then
      local flowKey = base .. "f:" .. f[1]
      local outcome = outcomeJson(f[4], f[5], f[6])
      if redis.call("HSETNX", flowKey, "o:" .. f[2], outcome) == 1 then
        if not now then
          now, nowUs = clock()
        end
        local failed = f[4] ~= "succeeded"
        for did in string.gmatch(f[3] or "", "[^ ]+") do
          local dkey = base .. "t:" .. did
          local d = redis.call("HMGET", dkey, "status", "policy", "queue", "priority", "runAt",
            "pend", "deps")
          if d[1] == "waiting" then
            local deps = withDependency(d[7], f[2], outcome)
            local pend = (tonumber(d[6]) or 1) - 1
            if failed and d[2] ~= "run" then
              if not nowUs then
                local _, us = clock()
                nowUs = us
              end
              local at = digits(now)
              local errorJson = cjson.encode({
                name = "CancelledError", code = "ERR_CANCELLED", reason = "dependency",
                message = 'The task was cancelled because its dependency "' .. f[2]
                  .. '" did not succeed (onDependencyFailure: "cancel")',
              })
              redis.call("HSET", dkey, "status", "cancelled", "finishedAt", at, "error", errorJson,
                "runAt", "")
              redis.call("ZADD", base .. "finished", digits(nowUs), did)
              emitEvent(base .. "events", maxLen, dkey, "cancelled", at, "error", errorJson,
                "finishedAt", at)
              work[#work + 1] = did
            elseif pend <= 0 then
              releaseNode(base, dkey, did, d[3], d[4], d[5], deps, now)
            else
              redis.call("HSET", dkey, "deps", deps, "pend", pend)
            end
          end
        end
        if redis.call("HINCRBY", flowKey, "remaining", -1) <= 0 then
          redis.call("HSET", flowKey, "finishedAt", digits(now))
          local ttl = tonumber(redis.call("HGET", flowKey, "ttl") or "0") or 0
          if ttl > 0 then
            redis.call("PEXPIRE", flowKey, ttl)
          end
        end
      end
    end
  end
end

-- The key stem of a task key built as stem .. "t:" .. id.
local function stemOf(taskKey, id)
  return string.sub(taskKey, 1, #taskKey - #id - 2)
end
