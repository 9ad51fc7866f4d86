-- Reactions (mysocial.reactions.cache): one per user per post; the post's counts move with it.
-- Index `reactions:<postId>` is complete while complete:reactions:<postId> exists.

-- reaction_set(post, reaction, reactions:<post>, reactions:by:<user>, gone:reaction,
--              complete:reactions:<post>; {id, prefix, type, now, keep_ms}, fields...)
--   -> the previous type ('' for none) | REFUSED missing | REFUSED incomplete
-- Set the user's reaction (`type`) or remove it (`type` ''), moving the post's counters
-- (`<prefix><type>` fields) only by what changed.
local function reaction_set(keys, argv)
  local a = args(argv)
  if not complete(keys[6]) then return refuse('incomplete', string.sub(keys[6], 10)) end
  if redis.call('EXISTS', keys[1]) == 0 then return refuse('missing', keys[1]) end
  local old = ''
  if redis.call('ZSCORE', keys[3], a.id) then
    local raw = redis.call('HGET', keys[2], 'type')
    if not raw then return refuse('missing', keys[2]) end
    old = cjson.decode(raw)
  end
  if old == a.type then return old end
  if old ~= '' then redis.call('HINCRBY', keys[1], a.prefix .. old, -1) end
  redis.call('DEL', keys[2])
  if a.type ~= '' then
    redis.call('HINCRBY', keys[1], a.prefix .. a.type, 1)
    redis.call('HSET', keys[2], unpack(rest(argv, 2)))
    redis.call('ZADD', keys[3], a.now, a.id)
    redis.call('ZADD', keys[4], a.now, a.id)
    redis.call('ZREM', keys[5], a.id)
  else
    redis.call('ZREM', keys[3], a.id)
    redis.call('ZREM', keys[4], a.id)
    redis.call('ZADD', keys[5], a.now, a.id)
    redis.call('ZREMRANGEBYSCORE', keys[5], '-inf', a.now - a.keep_ms)
  end
  return old
end

register{'reaction_set', reaction_set}
