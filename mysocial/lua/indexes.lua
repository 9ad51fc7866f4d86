-- Indexes: sorted sets (and sets) that list documents; complete while `complete:<name>` exists
-- (mysocial.core.indexes rebuilds them, one instance at a time, in chunks).

-- index_merge(index, gone; {}, score, member, score, member...) -> how many were added
-- One chunk of a rebuild: members MongoDB has, unless gone (deleted meanwhile) or there already
-- (a write since the rebuild began knows better).
local function index_merge(keys, argv)
  local added = 0
  for i = 2, #argv, 2 do
    if not redis.call('ZSCORE', keys[2], argv[i + 1]) then
      added = added + redis.call('ZADD', keys[1], 'NX', argv[i], argv[i + 1])
    end
  end
  return added
end

-- index_complete(complete:<name>, rebuild:<name>; {token}) -> 1
-- The rebuild is over: mark the index complete and release the rebuild's lock (if still ours).
local function index_complete(keys, argv)
  local a = args(argv)
  redis.call('SET', keys[1], '1')
  if redis.call('GET', keys[2]) == a.token then redis.call('DEL', keys[2]) end
  return 1
end

-- index_abandon(rebuild:<name>; {token}) -> 1 | false
-- A rebuild failed: release its lock so that another may start.
local function index_abandon(keys, argv)
  local a = args(argv)
  if redis.call('GET', keys[1]) ~= a.token then return false end
  redis.call('DEL', keys[1])
  return 1
end

-- index_hold(rebuild:<name>; {token, ms}) -> 1 | false
-- A rebuild between two chunks: keep its lock (if still ours) for `ms` more.
local function index_hold(keys, argv)
  local a = args(argv)
  if redis.call('GET', keys[1]) ~= a.token then return false end
  return redis.call('PEXPIRE', keys[1], a.ms)
end

register{
  'index_merge', index_merge, 'index_complete', index_complete, 'index_abandon', index_abandon,
  'index_hold', index_hold
}
