--[[
  Appends one sealed audit record iff the chain's head is still the one it was sealed after
  (compare-and-append: the record's `prev` and `seq` come from that head, so two processes
  appending at once never fork the chain; the loser re-seals after the new head and retries).
  Then drops the oldest records past the bound, keeping the last one dropped as the anchor.

  KEYS[1] records zset   {p}:audit       score = seq, member = the record's JSON
  KEYS[2] chain hash     {p}:audit:meta  seq, head (newest link), anchorSeq, anchor (bound)

  ARGV[1] head seq the record was sealed after ("0": none yet)
  ARGV[2] head hash it was sealed after
  ARGV[3] the record's seq
  ARGV[4] the record's hash
  ARGV[5] the record's JSON
  ARGV[6] records kept at most

  Returns 1 when appended, 0 when the head moved meanwhile (nothing written).
]]
local meta = redis.call("HMGET", KEYS[2], "seq", "head")
local seq = meta[1] or "0"
local head = meta[2] or string.rep("0", 64)
if seq ~= ARGV[1] or head ~= ARGV[2] then
  return 0
end
redis.call("ZADD", KEYS[1], ARGV[3], ARGV[5])
redis.call("HSET", KEYS[2], "seq", ARGV[3], "head", ARGV[4])

local excess = redis.call("ZCARD", KEYS[1]) - tonumber(ARGV[6])
if excess > 0 then
  local dropped = redis.call("ZRANGE", KEYS[1], 0, excess - 1, "WITHSCORES")
  local text = dropped[#dropped - 1]
  local ok, record = pcall(cjson.decode, text)
  -- A record altered into unreadable text leaves an anchor no record can chain to: verify
  -- then reports the oldest kept record, which is the truth (the chain was broken there).
  local hash = (ok and type(record) == "table" and type(record.hash) == "string") and record.hash or ""
  redis.call("ZREMRANGEBYRANK", KEYS[1], 0, excess - 1)
  redis.call("HSET", KEYS[2], "anchorSeq", dropped[#dropped], "anchor", hash)
end
return 1
