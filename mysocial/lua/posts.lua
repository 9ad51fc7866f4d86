-- Posts (mysocial.posts.cache). Index group `posts` (complete:posts): the lists `posts`,
-- `posts:images`, `posts:videos`, `posts:user:<id>`, the audience hash (post -> "<author>:<privacy>")
-- and the counts hash ("<privacy>" and "<author>:<privacy>" -> how many), rebuilt together.

-- Move the per-privacy counts with an audience entry.
local function shift(counts, entry, by)
  redis.call('HINCRBY', counts, entry, by)
  redis.call('HINCRBY', counts, string.sub(entry, string.find(entry, ':', 1, true) + 1), by)
end

-- posts:sums: "<Public posts of the suspended>:<of the limited>:<how many suspended>:<limited>",
-- what a total subtracts without reading those sets whole. Whatever changes them deletes it
-- (post_index for an author in either set, posts_merge, an account's state change: the
-- moderation service); post_page refuses `stale sums` without it, and posts_sums makes it again.
local function author_of(entry)
  return string.sub(entry, 1, string.find(entry, ':', 1, true) - 1)
end

local function sums_follow(sums, suspended, limited, entry)
  local author = author_of(entry)
  if redis.call('ZSCORE', suspended, author) or redis.call('ZSCORE', limited, author) then
    redis.call('DEL', sums)
  end
end

-- posts_sums(posts:counts, accounts:suspended, accounts:limited, posts:sums) -> 1
local function posts_sums(keys)
  local function public_of(set)
    local n = 0
    for _, u in ipairs(redis.call('ZRANGE', set, 0, -1)) do
      n = n + tonumber(redis.call('HGET', keys[1], u .. ':Public') or '0')
    end
    return n
  end
  redis.call('SET', keys[4], public_of(keys[2]) .. ':' .. public_of(keys[3]) .. ':' ..
             redis.call('ZCARD', keys[2]) .. ':' .. redis.call('ZCARD', keys[3]))
  return 1
end

-- post_index(post, audience, counts, images, videos, accounts:suspended, accounts:limited,
--            posts:sums; {id, score, audience?, drop?, image?, video?})
--   -> 1 | false (the post is not cached: nothing to list)
-- List or unlist the post in the image and video lists (`image`, `video`: true, false, or absent
-- to leave); with `audience`, set its audience entry from the hash as it is now ("<author>:<privacy>",
-- the privacy `Removed` while taken down: concurrent edits and takedowns agree), or remove it
-- (`drop`), moving the counts.
local function post_index(keys, argv)
  local a = args(argv)
  if not a.drop and redis.call('EXISTS', keys[1]) == 0 then return false end
  local function list(flag, set)
    if flag == true then redis.call('ZADD', set, a.score, a.id) elseif flag == false then redis.call('ZREM', set, a.id) end
  end
  list(a.image, keys[4])
  list(a.video, keys[5])
  local old = redis.call('HGET', keys[2], a.id)
  if a.drop then
    if old then shift(keys[3], old, -1); redis.call('HDEL', keys[2], a.id); sums_follow(keys[8], keys[6], keys[7], old) end
    return 1
  end
  if not a.audience then return 1 end
  local post = redis.call('HMGET', keys[1], 'userId', 'privacy', 'takenDown')
  local entry = cjson.decode(post[1]) .. ':' .. (post[3] == 'true' and 'Removed' or cjson.decode(post[2]))
  if old == entry then return 1 end
  if old then shift(keys[3], old, -1) end
  shift(keys[3], entry, 1)
  redis.call('HSET', keys[2], a.id, entry)
  sums_follow(keys[8], keys[6], keys[7], entry)
  return 1
end

-- posts_merge(posts, posts:images, posts:videos, posts:audience, posts:counts, gone:post,
--             posts:sums, posts:user:<author>...; {entries: [[id, score, author slot, "<author>:<privacy>",
--             image, video], ...]}) -> how many were added
-- One chunk of the posts group's rebuild: a post already listed (written since) or gone is skipped.
local function posts_merge(keys, argv)
  local a = args(argv)
  local added = 0
  for _, e in ipairs(a.entries) do
    local id, score = e[1], e[2]
    if not redis.call('ZSCORE', keys[6], id) and redis.call('ZADD', keys[1], 'NX', score, id) == 1 then
      added = added + 1
      redis.call('ZADD', keys[e[3]], score, id)
      if e[5] then redis.call('ZADD', keys[2], score, id) end
      if e[6] then redis.call('ZADD', keys[3], score, id) end
      if redis.call('HSETNX', keys[4], id, e[4]) == 1 then shift(keys[5], e[4], 1) end
    end
  end
  if added > 0 then redis.call('DEL', keys[7]) end
  return added
end

-- What a reader may see of posts, by their audience entries ("<author>:<privacy>"): Public:
-- everyone; Followers: the author's followers and the author; Private, and Removed (taken
-- down): the author; nobody across a block, nobody's but their own of a suspended user; a
-- limited user's Public posts: as Followers. Returns visible(entry), followed(author) and
-- limited[author]; a page asks about its authors only. Keys: blocked:<reader>,
-- blockedby:<reader>, following:<reader>, accounts:suspended, accounts:limited.
local function post_viewer(blocked, blockedby, following, suspended, limited_key, reader)
  local hidden = graph_hidden(blocked, blockedby, suspended, reader)
  local limited = zset_members(limited_key)
  local follows = {}
  local function followed(author)
    if follows[author] == nil then follows[author] = graph_follows(following, author) end
    return follows[author]
  end
  local function visible(entry)
    if not entry then return false end
    local sep = string.find(entry, ':', 1, true)
    local author, privacy = string.sub(entry, 1, sep - 1), string.sub(entry, sep + 1)
    if author == reader then return true end
    if hidden[author] then return false end
    if privacy == 'Public' and not limited[author] then return true end
    if privacy ~= 'Followers' and privacy ~= 'Public' then return false end
    return followed(author)
  end
  return visible, followed, limited
end

-- post_page(list, posts:audience, posts:counts, blocked:<reader>, blockedby:<reader>,
--           following:<reader>, accounts:suspended, accounts:limited, complete:posts,
--           complete:blocks, complete:follows:<reader>, complete:accounts:suspended,
--           complete:accounts:limited, posts:sums; {reader, skip, size, total, partial, budget,
--           start, seen})
--   -> {ids, total or false, next start or false, seen} | REFUSED incomplete | REFUSED stale sums
-- The posts of `list` the reader may see (post_viewer), newest first, `skip` then `size`; with
-- `total`, how many the reader may see in all, from the counts.
-- With `partial`, while the posts group is being rebuilt: what it holds so far, as id, score,
-- id, score... and no total.
-- One call looks at no more than `budget` entries, from rank `start`, `seen` visible ones
-- before it: a reader who sees few of a long list must not stop Redis while the whole list is
-- read. When the budget ran out before the page was full, the answer says where to go on.
local function post_page(keys, argv)
  local a = args(argv)
  for i = a.partial and 10 or 9, 13 do
    if not complete(keys[i]) then return refuse('incomplete', string.sub(keys[i], 10)) end
  end
  local reader = a.reader
  local visible, followed = post_viewer(keys[4], keys[5], keys[6], keys[7], keys[8], reader)
  -- The first chunk is what the page needs if nearly all is visible; each next one twice as long.
  -- Scores only when asked for: formatting them cost Redis more than the range itself.
  local seen, start = a.seen or 0, a.start or 0
  local stop = start + (a.budget or 2000)
  local page, taken, chunk = {}, 0, math.min(math.max(a.skip - seen, 0) + a.size + 8, 1000)
  local step, ended = a.partial and 2 or 1, false
  while taken < a.size and start < stop and not ended do
    local last = math.min(start + chunk, stop) - 1
    local flat = a.partial and redis.call('ZREVRANGE', keys[1], start, last, 'WITHSCORES')
      or redis.call('ZREVRANGE', keys[1], start, last)
    ended = #flat < step * (last - start + 1)
    if #flat == 0 then break end
    local ids = {}
    for i = 1, #flat, step do ids[#ids + 1] = flat[i] end
    local entries = redis.call('HMGET', keys[2], unpack(ids))
    for i, id in ipairs(ids) do
      if taken < a.size and visible(entries[i]) then
        seen = seen + 1
        if seen > a.skip then
          taken = taken + 1
          page[#page + 1] = id
          if a.partial then page[#page + 1] = flat[2 * i] end
        end
      end
    end
    start = last + 1
    chunk = math.min(2 * chunk, 1000)
  end
  local resume = taken < a.size and not ended and start or false
  local total = false
  if a.total and not a.partial then
    -- Public posts, less the suspended users' and the limited users' (posts:sums), less those of
    -- whom the reader is in a block with; plus the limited ones the reader sees (their own, and
    -- of whom they follow), the Followers posts of whom they follow, and their own others.
    local sums = redis.call('GET', keys[14])
    local sp, lp, ns, nl = string.match(sums or '', '^(%-?%d+):(%-?%d+):(%d+):(%d+)$')
    if not sp or tonumber(ns) ~= redis.call('ZCARD', keys[7]) or tonumber(nl) ~= redis.call('ZCARD', keys[8]) then
      return refuse('stale', 'sums')
    end
    local function count(field) return tonumber(redis.call('HGET', keys[3], field) or '0') end
    local suspended, limited = zset_members(keys[7]), zset_members(keys[8])
    total = count('Public') - tonumber(sp) - tonumber(lp)
      + count(reader .. ':Followers') + count(reader .. ':Private') + count(reader .. ':Removed')
    if suspended[reader] or limited[reader] then total = total + count(reader .. ':Public') end
    local blocked = blocks_into({}, keys[4], keys[5])
    blocked[reader] = nil
    for u in pairs(blocked) do
      if not suspended[u] and not limited[u] then total = total - count(u .. ':Public') end
    end
    for _, u in ipairs(redis.call('ZRANGE', keys[6], 0, -1)) do
      if u ~= reader and not blocked[u] and not suspended[u] then
        if limited[u] then total = total + count(u .. ':Public') end
        total = total + count(u .. ':Followers')
      end
    end
  end
  return {page, total, resume, seen}
end

-- post_encode(post:<id>) -> 1 | false (no such hash, or a field name that is not a plain word)
-- The post's wire JSON without its counters (commentsCount, reactions.*), kept in the field
-- `_json`: every field value is JSON already, so it is '{"<field>":<value>,...}', itself JSON like
-- every field of the hash; posts.cache.spliced puts the counters before its closing brace.
-- Run after every change of a post's fields, in the same transaction.
local function post_encode(keys)
  if redis.call('EXISTS', keys[1]) == 0 then return false end
  local flat = redis.call('HGETALL', keys[1])
  local parts = {}
  for i = 1, #flat, 2 do
    local field = flat[i]
    if field ~= '_json' and field ~= 'commentsCount' and string.sub(field, 1, 10) ~= 'reactions.' then
      if not string.match(field, '^[%w_]+$') then
        redis.call('HDEL', keys[1], '_json')
        return false
      end
      parts[#parts + 1] = '"' .. field .. '":' .. flat[i + 1]
    end
  end
  table.sort(parts)  -- by field name: the same post encodes the same, however its hash was made
  redis.call('HSET', keys[1], '_json', '{' .. table.concat(parts, ',') .. '}')
  return 1
end

register{'posts_sums', posts_sums, 'post_index', post_index, 'posts_merge', posts_merge, 'post_encode', post_encode}
register({'post_page', post_page}, true)
