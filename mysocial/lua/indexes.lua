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

-- cursor_page(index, complete:<name>; {limit, max, since, min, max_at, since_at}) -> ids
--   | REFUSED incomplete
-- One page of a cursor (mysocial.core.pages), newest first: older than `max`, newer than `since`
-- (the newest `limit` of those) or than `min` (the `limit` just after it). A bound id no longer
-- in the index stands at its time (`max_at`, `since_at`: ms).
local function cursor_page(keys, argv)
  local a = args(argv)
  if not complete(keys[2]) then return refuse('incomplete', string.sub(keys[2], 10)) end
  local function newer_than(at) return redis.call('ZCOUNT', keys[1], '(' .. at, '+inf') end
  local lo, hi = 0, nil
  if given(a.max) then
    local rank = redis.call('ZREVRANK', keys[1], a.max)
    lo = rank and rank + 1 or newer_than(a.max_at)
  end
  local after = given(a.min) and a.min or (given(a.since) and a.since or nil)
  if after then
    local rank = redis.call('ZREVRANK', keys[1], after)
    hi = (rank or newer_than(a.since_at)) - 1
    if hi < lo then return {} end
  end
  if given(a.min) then
    lo = math.max(lo, hi - a.limit + 1)
  else
    hi = hi and math.min(hi, lo + a.limit - 1) or lo + a.limit - 1
  end
  return redis.call('ZREVRANGE', keys[1], lo, hi)
end

register({'cursor_page', cursor_page}, true)

register{
  'index_merge', index_merge, 'index_complete', index_complete, 'index_abandon', index_abandon,
  'index_hold', index_hold
}
