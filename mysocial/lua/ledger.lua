-- The pending ledger (mysocial.core.writepath): what was answered but is not yet in MongoDB.

-- ledger_mark(pending, pending:since, pending:clock, pending:deleted, cache keys...;
--             {changes: [[member, deleted, slot of its document's key or 0], ...]}) -> version
-- A version from the Redis clock in µs, forced to grow; each member's pending version; the
-- members' cache keys lose their TTL (a pending entry never expires). A write that is not a
-- delete takes the member off pending:deleted only if its document is there: a write refused
-- because a delete came first (a session ended meanwhile) must not cancel that delete.
local function ledger_mark(keys, argv)
  local a = args(argv)
  for i = 5, #keys do redis.call('PERSIST', keys[i]) end
  local t = redis.call('TIME')
  local v = tonumber(t[1]) * 1000000 + tonumber(t[2])
  local last = tonumber(redis.call('GET', keys[3]) or '0')
  if v <= last then v = last + 1 end
  redis.call('SET', keys[3], v)
  local now_ms = math.floor(v / 1000)
  for _, change in ipairs(a.changes) do
    redis.call('HSET', keys[1], change[1], v)
    redis.call('ZADD', keys[2], 'NX', now_ms, change[1])
    if change[2] then
      redis.call('SADD', keys[4], change[1])
    elseif change[3] == 0 or redis.call('EXISTS', keys[change[3]]) == 1 then
      redis.call('SREM', keys[4], change[1])
    end
  end
  return v
end

-- ledger_clear(pending, pending:since, pending:deleted, cache keys...; {member, version, ttl}) -> 1 | false
-- (`version` as a string: a µs clock has more digits than Lua's tostring keeps)
-- Clears the entry only if no newer write came in, and gives the cache keys their TTL.
local function ledger_clear(keys, argv)
  local a = args(argv)
  if redis.call('HGET', keys[1], a.member) ~= a.version then return false end
  redis.call('HDEL', keys[1], a.member)
  redis.call('ZREM', keys[2], a.member)
  redis.call('SREM', keys[3], a.member)
  if a.ttl > 0 then
    for i = 4, #keys do redis.call('EXPIRE', keys[i], a.ttl) end
  end
  return 1
end

register{'ledger_mark', ledger_mark, 'ledger_clear', ledger_clear}
