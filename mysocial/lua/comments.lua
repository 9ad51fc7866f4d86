-- Comments (mysocial.comments.cache): the post's commentsCount moves with them.

-- comment_add(comment, gone:comment, post, comments:<post>; {id, score, counter}, fields...)
--   -> the post's new comment count | REFUSED missing
-- Idempotent: the count moves only when the comment is newly listed.
local function comment_add(keys, argv)
  local a = args(argv)
  if redis.call('EXISTS', keys[3]) == 0 then return refuse('missing', keys[3]) end
  redis.call('HSET', keys[1], unpack(rest(argv, 2)))
  redis.call('ZREM', keys[2], a.id)
  if redis.call('ZADD', keys[4], a.score, a.id) == 1 then
    return redis.call('HINCRBY', keys[3], a.counter, 1)
  end
  return tonumber(redis.call('HGET', keys[3], a.counter) or '0')
end

-- comment_takedown(comment, post; {down, counter}) -> the post's comment count | false (no change)
--   | REFUSED missing
-- Take a comment down (`down`: true) or restore it: it leaves (or rejoins) the post's count, once.
local function comment_takedown(keys, argv)
  local a = args(argv)
  local missing = {}
  for i = 1, 2 do
    if redis.call('EXISTS', keys[i]) == 0 then missing[#missing + 1] = keys[i] end
  end
  if #missing > 0 then return refuse('missing', table.concat(missing, ' ')) end
  local was = redis.call('HGET', keys[1], 'takenDown') == 'true'
  if was == a.down then return false end
  redis.call('HSET', keys[1], 'takenDown', a.down and 'true' or 'false')
  return redis.call('HINCRBY', keys[2], a.counter, a.down and -1 or 1)
end

register{'comment_add', comment_add, 'comment_takedown', comment_takedown}
