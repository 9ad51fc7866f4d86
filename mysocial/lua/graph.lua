-- The social graph (mysocial.graph): follows, blocks, and the counters and lists they move in the
-- user hashes. Complete indexes: `complete:follows:<user>` (that user's following:/followers:
-- sets), `complete:blocks` (every blocked:/blockedby: set). An ended follow or block is kept in
-- `gone:follow` / `gone:block` ("<a>-<b>", a day) so that a rebuild from MongoDB, whose
-- tombstone may not be stored yet, does not bring it back.

local function edge(a, b) return a .. '-' .. b end

-- Whom a reader blocks and who blocks them, into the table `into`.
local function blocks_into(into, blocked_key, blockedby_key)
  for _, u in ipairs(redis.call('SMEMBERS', blocked_key)) do into[u] = true end
  for _, u in ipairs(redis.call('SMEMBERS', blockedby_key)) do into[u] = true end
  return into
end

-- Who a reader must not see or reach: whom they block, who blocks them, suspended users, as a
-- table answering `hidden[user]`; a user's suspension is asked when first needed (there may be
-- many more suspended users than a page has authors).
local function graph_hidden(blocked_key, blockedby_key, suspended_key, reader)
  local hidden, suspended = blocks_into({}, blocked_key, blockedby_key), zset_members(suspended_key)
  hidden[reader] = false
  return setmetatable(hidden, {__index = function(_, u) return suspended[u] end})
end

local function graph_follows(following_key, followee)
  return redis.call('ZSCORE', following_key, followee) ~= false
end

local function unfollow(following_a, followers_b, user_a, user_b, a, b, gone, now)
  if redis.call('ZREM', following_a, b) == 0 then return 0 end
  redis.call('ZREM', followers_b, a)
  user_bump(user_a, 'followingCount', -1)
  user_bump(user_b, 'followersCount', -1)
  redis.call('ZADD', gone, now, edge(a, b))
  return 1
end

-- The refusals a graph write checks first: every index not complete, else every user not cached
-- (all of them at once, space-separated, so that one round of fixing is enough).
local function not_ready(markers, users)
  local incomplete, missing = {}, {}
  for _, marker in ipairs(markers) do
    if not complete(marker) then incomplete[#incomplete + 1] = string.sub(marker, 10) end
  end
  if #incomplete > 0 then return refuse('incomplete', table.concat(incomplete, ' ')) end
  for _, user in ipairs(users) do
    if redis.call('EXISTS', user) == 0 then missing[#missing + 1] = user end
  end
  if #missing > 0 then return refuse('missing', table.concat(missing, ' ')) end
  return nil
end

-- graph_follow(following:a, followers:b, user:a, user:b, blocked:a, blocked:b, complete:follows:a,
--              complete:follows:b, complete:blocks, gone:follow, accounts:suspended,
--              complete:accounts:suspended; {a, b, at}) -> 1 | false | REFUSED
-- a follows b, and both counters move, only if the edge is new; refused across a block, and
-- when b is suspended (to others they are not there).
local function graph_follow(keys, argv)
  local a = args(argv)
  local refused = not_ready({keys[7], keys[8], keys[9], keys[12]}, {keys[3], keys[4]})
  if refused then return refused end
  if redis.call('SISMEMBER', keys[5], a.b) == 1 or redis.call('SISMEMBER', keys[6], a.a) == 1 then
    return refuse('blocked')
  end
  if redis.call('ZSCORE', keys[11], a.b) then return refuse('suspended') end
  if redis.call('ZADD', keys[1], 'NX', a.at, a.b) == 0 then return false end
  redis.call('ZADD', keys[2], a.at, a.a)
  user_bump(keys[3], 'followingCount', 1)
  user_bump(keys[4], 'followersCount', 1)
  redis.call('ZREM', keys[10], edge(a.a, a.b))
  return 1
end

-- graph_unfollow(following:a, followers:b, user:a, user:b, complete:follows:a, complete:follows:b,
--                gone:follow; {a, b, now}) -> 1 | false | REFUSED
local function graph_unfollow(keys, argv)
  local a = args(argv)
  local refused = not_ready({keys[5], keys[6]}, {keys[3], keys[4]})
  if refused then return refused end
  if unfollow(keys[1], keys[2], keys[3], keys[4], a.a, a.b, keys[7], a.now) == 0 then return false end
  return 1
end

-- graph_block(user:a, user:b, blocked:a, blockedby:b, following:a, followers:b, following:b,
--             followers:a, complete:follows:a, complete:follows:b, complete:blocks, gone:follow,
--             gone:block; {a, b, now}) -> {1, ended a->b, ended b->a} | false | REFUSED
-- a blocks b: the block sets, both users' block lists, and the follows both ways end.
local function graph_block(keys, argv)
  local a = args(argv)
  local refused = not_ready({keys[9], keys[10], keys[11]}, {keys[1], keys[2]})
  if refused then return refused end
  if redis.call('SADD', keys[3], a.b) == 0 then return false end
  redis.call('SADD', keys[4], a.a)
  redis.call('ZREM', keys[13], edge(a.a, a.b))
  user_list_add(keys[1], 'blocked', a.b)
  user_list_add(keys[2], 'blockedBy', a.a)
  local ab = unfollow(keys[5], keys[6], keys[1], keys[2], a.a, a.b, keys[12], a.now)
  local ba = unfollow(keys[7], keys[8], keys[2], keys[1], a.b, a.a, keys[12], a.now)
  return {1, ab, ba}
end

-- graph_unblock(user:a, user:b, blocked:a, blockedby:b, complete:blocks, gone:block; {a, b, now})
--   -> 1 | false | REFUSED
local function graph_unblock(keys, argv)
  local a = args(argv)
  local refused = not_ready({keys[5]}, {keys[1], keys[2]})
  if refused then return refused end
  if redis.call('SREM', keys[3], a.b) == 0 then return false end
  redis.call('SREM', keys[4], a.a)
  redis.call('ZADD', keys[6], a.now, edge(a.a, a.b))
  user_list_remove(keys[1], 'blocked', a.b)
  user_list_remove(keys[2], 'blockedBy', a.a)
  return 1
end

-- graph_merge_follows(following:u, followers:u, gone:follow; {user, following, followers}) -> added
-- A user's follow sets from MongoDB ([[id, ms], ...] each), but for edges ended meanwhile.
local function graph_merge_follows(keys, argv)
  local a = args(argv)
  local added = 0
  for _, e in ipairs(a.following) do
    if not redis.call('ZSCORE', keys[3], edge(a.user, e[1])) then
      added = added + redis.call('ZADD', keys[1], 'NX', e[2], e[1])
    end
  end
  for _, e in ipairs(a.followers) do
    if not redis.call('ZSCORE', keys[3], edge(e[1], a.user)) then
      added = added + redis.call('ZADD', keys[2], 'NX', e[2], e[1])
    end
  end
  return added
end

-- graph_merge_blocks(gone:block, blocked:a1, blockedby:b1, blocked:a2, blockedby:b2, ...;
--                    {pairs: [[a1, b1], [a2, b2], ...]}) -> added
local function graph_merge_blocks(keys, argv)
  local a = args(argv)
  local added = 0
  for i, pair in ipairs(a.pairs) do
    if not redis.call('ZSCORE', keys[1], edge(pair[1], pair[2])) then
      added = added + redis.call('SADD', keys[2 * i], pair[2])
      redis.call('SADD', keys[2 * i + 1], pair[1])
    end
  end
  return added
end

register{
  'graph_follow', graph_follow, 'graph_unfollow', graph_unfollow, 'graph_block', graph_block,
  'graph_unblock', graph_unblock, 'graph_merge_follows', graph_merge_follows,
  'graph_merge_blocks', graph_merge_blocks
}
