-- Timelines (mysocial.timelines): cursor pages of post lists filtered for their reader, and the
-- home feeds.
--
-- A home feed `home:<user>` is a sorted set of post ids by creation time (ms), built while
-- `complete:home:<user>` exists (or being built while `rebuild:home:<user>` does), at most `cap`
-- entries. `home:floor:<user>` ("<score> <id>"), once entries were trimmed: the feed holds every
-- post newer than the floor by the accounts followed (and the user's own) that was not deleted,
-- so a page reaches MongoDB only below it. An entry is never added at or below the floor.

local function floor_of(floor_key)
  local raw = redis.call('GET', floor_key)
  if not raw then return nil, nil end
  local sep = string.find(raw, ' ', 1, true)
  return tonumber(string.sub(raw, 1, sep - 1)), string.sub(raw, sep + 1)
end

-- Whether (score, id) is newer than (fs, fid) in the order of the lists (score, then id).
local function newer(score, id, fs, fid)
  return fs == nil or score > fs or (score == fs and id > fid)
end

-- Add entries ([score, id]..., the score as a string: ms with a fraction, exactly as the lists
-- have it) above the floor to one feed, trim it to `cap` and move the floor to the newest entry
-- trimmed.
local function feed_add(home, floor_key, entries, cap)
  local fs, fid = floor_of(floor_key)
  local added = 0
  for _, e in ipairs(entries) do
    if newer(tonumber(e[1]), e[2], fs, fid) then added = added + redis.call('ZADD', home, e[1], e[2]) end
  end
  local extra = redis.call('ZCARD', home) - cap
  if extra > 0 then
    local popped = redis.call('ZPOPMIN', home, extra)
    redis.call('SET', floor_key, popped[#popped] .. ' ' .. popped[#popped - 1])
  end
  return added
end

-- Raise the floor to (score, id) if that is newer, and drop the entries at or below it.
local function raise_floor(home, floor_key, score, id)
  local fs, fid = floor_of(floor_key)
  if not newer(tonumber(score), id, fs, fid) then return end
  redis.call('SET', floor_key, score .. ' ' .. id)
  redis.call('ZREMRANGEBYSCORE', home, '-inf', '(' .. score)
  for _, m in ipairs(redis.call('ZRANGEBYSCORE', home, score, score)) do
    if m <= id then redis.call('ZREM', home, m) end
  end
end

local function building(marker, lock)
  return redis.call('EXISTS', marker) == 1 or redis.call('EXISTS', lock) == 1
end

-- home_add(active, home:<u1>, home:floor:<u1>, complete:home:<u1>, rebuild:home:<u1>,
--          home:<u2>, ...; {entries: [[score, id], ...], cap, before}) -> how many feeds took one
-- Fan-out: the entries into each of these feeds that is built or being built (the others are
-- built from the lists when their user comes back); the feed of a user not active since
-- `before` (ms) is dropped instead, so that a feed kept is never one that missed a post.
local function home_add(keys, argv)
  local a = args(argv)
  local took = 0
  for i = 2, #keys, 4 do
    if building(keys[i + 2], keys[i + 3]) then
      local seen = tonumber(redis.call('ZSCORE', keys[1], string.sub(keys[i], 6)))
      if not seen or seen < a.before then
        redis.call('DEL', keys[i], keys[i + 1], keys[i + 2])
      elseif feed_add(keys[i], keys[i + 1], a.entries, a.cap) > 0 then
        took = took + 1
      end
    end
  end
  return took
end

-- home_merge(home:<u>, home:floor:<u>, complete:home:<u>, rebuild:home:<u>, complete:posts,
--            posts:user:<a1>, posts:user:<a2>, ...; {cap}) -> how many were added
--   | false (the feed is not built) | REFUSED incomplete posts
-- The newest `cap` posts of each author above the floor, into the feed: a follow, or one chunk
-- of a feed's build. An author with more: the floor rises to the newest one left out (the
-- feed holds everything above its floor).
local function home_merge(keys, argv)
  local a = args(argv)
  if not complete(keys[5]) then return refuse('incomplete', 'posts') end
  if not building(keys[3], keys[4]) then return false end
  local added = 0
  for i = 6, #keys do
    local fs = floor_of(keys[2])
    local flat = redis.call('ZREVRANGEBYSCORE', keys[i], '+inf', fs or '-inf', 'WITHSCORES', 'LIMIT', 0, a.cap + 1)
    local entries = {}
    for j = 1, #flat, 2 do entries[#entries + 1] = {flat[j + 1], flat[j]} end
    if #entries > a.cap then
      local left = table.remove(entries)
      raise_floor(keys[1], keys[2], left[1], left[2])
    end
    added = added + feed_add(keys[1], keys[2], entries, a.cap)
  end
  return added
end

-- home_unmerge(home:<u>, posts:user:<author>, following:<u>; {author}) -> how many were removed
-- An unfollow or a block: the author's posts leave the feed (pages filter them out already),
-- unless the author is followed again by now.
local function home_unmerge(keys, argv)
  local a = args(argv)
  if redis.call('ZSCORE', keys[3], a.author) then return 0 end
  local lowest = redis.call('ZRANGE', keys[1], 0, 0, 'WITHSCORES')
  if #lowest == 0 then return 0 end
  local ids = redis.call('ZRANGEBYSCORE', keys[2], lowest[2], '+inf')
  local removed = 0
  for i = 1, #ids, 500 do
    removed = removed + redis.call('ZREM', keys[1], unpack(ids, i, math.min(i + 499, #ids)))
  end
  return removed
end

-- home_remove(home:<u1>, home:<u2>, ...; {id}) -> how many feeds held it
-- A deleted post leaves the feeds it was fanned out to.
local function home_remove(keys, argv)
  local a = args(argv)
  local removed = 0
  for _, home in ipairs(keys) do removed = removed + redis.call('ZREM', home, a.id) end
  return removed
end

-- home_drop(active, home:<u>, home:floor:<u>, complete:home:<u>; {user, before})
--   -> 1 | false (active since, or no feed)
-- Drop the feed of a user not active since `before` (ms), unless they came back meanwhile.
local function home_drop(keys, argv)
  local a = args(argv)
  local seen = tonumber(redis.call('ZSCORE', keys[1], a.user))
  if seen and seen >= a.before then return false end
  local dropped = redis.call('DEL', keys[2], keys[3], keys[4])
  redis.call('ZREM', keys[1], a.user)
  return dropped > 0 and 1 or false
end

-- posts_cursor(list, posts:audience, posts, complete:<list>, home:floor:<reader> (read in
--              mode `home` only), blocked:<reader>, blockedby:<reader>,
--              following:<reader>, accounts:suspended, accounts:limited, complete:blocks,
--              complete:follows:<reader>, complete:accounts:suspended,
--              complete:accounts:limited; {reader, mode, limit, max, since, min, max_at, since_at,
--              budget})
--   -> {ids, floor or false, cut or false} | REFUSED incomplete
-- One cursor page (mysocial.core.pages) of a post list, newest first, of the posts the reader
-- may see (post_viewer); mode `home`: only the reader's own and those of accounts they follow;
-- `public`: only Public posts of authors not limited. A bound no longer listed stands where its
-- score in `posts` (or `max_at`, `since_at`) puts it. `floor` ("<score> <id>"): below it the list
-- is not complete (a trimmed home feed): the caller reads on in MongoDB. No more than `budget`
-- entries are looked at (a reader who sees few of a long list must not stop Redis while all of
-- it is read): `cut` is the last one looked at when the budget ran out before the page was full.
local function posts_cursor(keys, argv)
  local a = args(argv)
  for _, i in ipairs({4, 11, 12, 13, 14}) do
    if not complete(keys[i]) then return refuse('incomplete', string.sub(keys[i], 10)) end
  end
  local list, reader = keys[1], a.reader
  local visible, followed, limited = post_viewer(keys[6], keys[7], keys[8], keys[9], keys[10], reader)
  local function wanted(entry)
    if not visible(entry) then return false end
    if a.mode == 'all' then return true end
    local sep = string.find(entry, ':', 1, true)
    local author = string.sub(entry, 1, sep - 1)
    if a.mode == 'home' then return author == reader or followed(author) end
    return string.sub(entry, sep + 1) == 'Public' and not limited[author]
  end
  -- the rank a bound stands at: ranks below it are newer
  local function position(id, at)
    local rank = redis.call('ZREVRANK', list, id)
    if rank then return rank, rank + 1 end
    local score = tonumber(redis.call('ZSCORE', keys[3], id)) or at
    local n = redis.call('ZCOUNT', list, '(' .. score, '+inf')
    for _, m in ipairs(redis.call('ZRANGEBYSCORE', list, score, score)) do
      if m > id then n = n + 1 end
    end
    return n, n
  end
  local lo, hi = 0, redis.call('ZCARD', list) - 1
  if given(a.max) then local _, after = position(a.max, a.max_at); lo = after end
  local after = given(a.min) and a.min or (given(a.since) and a.since or nil)
  if after then local before = position(after, a.since_at); hi = math.min(hi, before - 1) end
  local page, left, cut = {}, a.budget or 2000, false
  local step, chunk = given(a.min) and -1 or 1, math.min(math.max(4 * a.limit, 64), 1000)
  local at = step == 1 and lo or hi
  while #page < a.limit and at >= lo and at <= hi and left > 0 do
    local size = math.min(chunk, left)
    local first = math.max(lo, math.min(at, at + step * (size - 1)))
    local last = math.min(hi, math.max(at, at + step * (size - 1)))
    local ids = redis.call('ZREVRANGE', list, first, last)
    if #ids == 0 then cut = false break end
    local entries = redis.call('HMGET', keys[2], unpack(ids))
    local from, to = 1, #ids
    if step == -1 then from, to = #ids, 1 end
    for i = from, to, step do
      if #page < a.limit and wanted(entries[i]) then page[#page + 1] = ids[i] end
    end
    left, at, cut = left - #ids, at + step * size, ids[to]
  end
  if #page == a.limit or at < lo or at > hi then cut = false end
  if step == -1 then
    local n = #page
    for i = 1, math.floor(n / 2) do page[i], page[n - i + 1] = page[n - i + 1], page[i] end
  end
  return {page, a.mode == 'home' and redis.call('GET', keys[5]) or false, cut}
end

register{'home_add', home_add, 'home_merge', home_merge, 'home_unmerge', home_unmerge, 'home_remove', home_remove,
         'home_drop', home_drop}
register({'posts_cursor', posts_cursor}, true)
