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

register{'comment_add', comment_add}
