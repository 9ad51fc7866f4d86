"""Posts in Redis.

- `post:<id>` hash: the post, reaction counts flattened to integer fields
  `reactions.<kind>` and `commentsCount`, so they change by HINCRBY.
- `posts`, `posts:images`, `posts:videos`, `posts:user:<userId>` sorted sets
  of post ids scored by creation time (ms): the lists, newest first.
- `posts:audience` hash: post id -> `<authorId>:<privacy>`, so a page is
  filtered for its reader inside Redis without loading the posts.
- `posts:counts` hash: `<privacy>` and `<authorId>:<privacy>` -> how many
  posts; gives a reader's exact `totalPosts` in O(blocks + follows).
- `posts:synced`: set once the lists were rebuilt from MongoDB (after a
  Redis loss every one of these is rebuilt on the next read).

The sets and the two hashes are indexes with no TTL (Redis must run with a
`volatile-*` maxmemory policy); post hashes expire once persisted.
"""
from __future__ import annotations

import redis.asyncio as aredis
from aiohttp import web
from redis.commands.core import AsyncScript

from mysocial.blocks import cache as blocks
from mysocial.core import index, reads
from mysocial.core.appkeys import MONGO, REDIS
from mysocial.core.cache import Kind, doc, read_many, read_through
from mysocial.core.index import ms
from mysocial.core.reads import Read
from mysocial.core.redis import run_script
from mysocial.followers import cache as follows
from mysocial.posts import store

ALL = "posts"
IMAGES = "posts:images"
VIDEOS = "posts:videos"
AUDIENCE = "posts:audience"
COUNTS = "posts:counts"
SYNCED = "posts:synced"
LISTS = {"all": ALL, "images": IMAGES, "videos": VIDEOS}
REACTIONS = ("like", "love", "happy", "wow", "sad", "angry")
COMMENTS_COUNT = "commentsCount"
REACTION_FIELD = "reactions."


def key(post_id: str) -> str:
    return f"post:{post_id}"


def by_user(user_id: str) -> str:
    return f"posts:user:{user_id}"


POST = Kind("post", key)

# KEYS: post, audience, counts, images, videos. ARGV: id, audience ('' drop, '=' keep), score, image, video
# ('1' list, '0' unlist, '' leave). Moves the per-privacy counts with the audience entry.
_INDEX_LUA = """
local id, value = ARGV[1], ARGV[2]
if value ~= '' and redis.call('EXISTS', KEYS[1]) == 0 then return 0 end
local function list(flag, set)
  if flag == '1' then redis.call('ZADD', KEYS[set], ARGV[3], id) elseif flag == '0' then redis.call('ZREM', KEYS[set], id) end
end
list(ARGV[4], 4)
list(ARGV[5], 5)
if value == '=' then return 1 end
local old = redis.call('HGET', KEYS[2], id)
if old == value or (not old and value == '') then return 1 end
local function shift(entry, delta)
  redis.call('HINCRBY', KEYS[3], entry, delta)
  redis.call('HINCRBY', KEYS[3], string.sub(entry, string.find(entry, ':', 1, true) + 1), delta)
end
if old then shift(old, -1) end
if value == '' then redis.call('HDEL', KEYS[2], id) else shift(value, 1); redis.call('HSET', KEYS[2], id, value) end
return 1
"""

# KEYS: synced, gone, all, images, videos, audience, counts, then one posts:user:<id> per author.
# ARGV: per post id, score, author's key index, audience, image flag, video flag.
_REBUILD_LUA = """
if redis.call('EXISTS', KEYS[1]) == 1 then return 0 end
for i = 1, #ARGV, 6 do
  local id, score = ARGV[i], ARGV[i + 1]
  if not redis.call('ZSCORE', KEYS[2], id) and redis.call('ZADD', KEYS[3], 'NX', score, id) == 1 then
    redis.call('ZADD', KEYS[tonumber(ARGV[i + 2])], score, id)
    if ARGV[i + 4] == '1' then redis.call('ZADD', KEYS[4], score, id) end
    if ARGV[i + 5] == '1' then redis.call('ZADD', KEYS[5], score, id) end
    redis.call('HSETNX', KEYS[6], id, ARGV[i + 3])
  end
end
redis.call('DEL', KEYS[7])
local entries = redis.call('HGETALL', KEYS[6])
for j = 2, #entries, 2 do
  local entry = entries[j]
  redis.call('HINCRBY', KEYS[7], entry, 1)
  redis.call('HINCRBY', KEYS[7], string.sub(entry, string.find(entry, ':', 1, true) + 1), 1)
end
redis.call('SET', KEYS[1], 1)
return 1
"""

# KEYS: list, audience, blocked(reader), blockedby(reader), following(reader), counts, synced.
# ARGV: reader, skip, size, '1' to count the reader's total. Returns {total or -1, ids...},
# or {-2} when the lists must be rebuilt first.
_PAGE_LUA = """
if redis.call('EXISTS', KEYS[7]) == 0 then return {-2} end
local reader, skip, size = ARGV[1], tonumber(ARGV[2]), tonumber(ARGV[3])
local hidden, follows = {}, {}
for _, u in ipairs(redis.call('SMEMBERS', KEYS[3])) do hidden[u] = true end
for _, u in ipairs(redis.call('SMEMBERS', KEYS[4])) do hidden[u] = true end
hidden[reader] = nil
local function visible(entry)
  if not entry then return false end
  local sep = string.find(entry, ':', 1, true)
  local author, privacy = string.sub(entry, 1, sep - 1), string.sub(entry, sep + 1)
  if author == reader then return true end
  if hidden[author] then return false end
  if privacy == 'Public' then return true end
  if privacy ~= 'Followers' then return false end
  if follows[author] == nil then follows[author] = redis.call('ZSCORE', KEYS[5], author) ~= false end
  return follows[author]
end
local page, seen, start, chunk = {}, 0, 0, math.min(math.max(4 * size, 64), 1000)
while #page < size do
  local ids = redis.call('ZREVRANGE', KEYS[1], start, start + chunk - 1)
  if #ids == 0 then break end
  local entries = redis.call('HMGET', KEYS[2], unpack(ids))
  for i, id in ipairs(ids) do
    if #page < size and visible(entries[i]) then
      seen = seen + 1
      if seen > skip then page[#page + 1] = id end
    end
  end
  start = start + chunk
end
local total = -1
if ARGV[4] == '1' then
  local function count(field) return tonumber(redis.call('HGET', KEYS[6], field) or '0') end
  total = count('Public') + count(reader .. ':Followers') + count(reader .. ':Private')
  for u in pairs(hidden) do total = total - count(u .. ':Public') end
  for _, u in ipairs(redis.call('ZRANGE', KEYS[5], 0, -1)) do
    if not hidden[u] and u ~= reader then total = total + count(u .. ':Followers') end
  end
end
table.insert(page, 1, total)
return page
"""
_lender = aredis.Redis()
_index = AsyncScript(_lender, _INDEX_LUA)
_rebuild = AsyncScript(_lender, _REBUILD_LUA)
_page = AsyncScript(_lender, _PAGE_LUA)


def flatten(post: dict) -> dict:
    """Wire form -> hash form: `reactions` becomes one integer field per kind."""
    out = {k: v for k, v in post.items() if k != "reactions"}
    if "reactions" in post:
        for kind in REACTIONS:
            out[REACTION_FIELD + kind] = int((post["reactions"] or {}).get(kind, 0))
    return out


def unflatten(flat: dict) -> dict:
    out = {k: v for k, v in flat.items() if not k.startswith(REACTION_FIELD)}
    out["reactions"] = {kind: int(flat.get(REACTION_FIELD + kind, 0)) for kind in REACTIONS}
    return out


async def _load(app: web.Application, post_id: str) -> dict | None:
    post = await store.find(app[MONGO], post_id)
    return flatten(post) if post else None


async def get(app: web.Application, post_id: str) -> dict | None:
    flat = await read_through(app, POST, post_id, lambda pid: _load(app, pid))
    return unflatten(flat) if flat else None


def read(app: web.Application, post_id: str) -> Read:
    """`get` as a `Read` (mysocial.core.reads)."""
    with_hash = read_for_change(app, post_id)

    async def finish(app_: web.Application, replies: list) -> dict | None:
        return (await with_hash.finish(app_, replies))[0]

    return Read(with_hash.queue, 1, finish)


def read_for_change(app: web.Application, post_id: str) -> Read:
    """`read`, as (post, its hash as Redis returned it — None after a miss), for `restore`."""
    flat = doc(POST, post_id, lambda pid: _load(app, pid))

    async def finish(app_: web.Application, replies: list) -> tuple[dict | None, dict | None]:
        found = await flat.finish(app_, replies)
        return (unflatten(found), replies[0] or None) if found else (None, None)

    return Read(flat.queue, 1, finish)


def reactions_read(post_id: str) -> Read:
    """The post's reaction counts by kind (zeros if the post is gone)."""
    return reads.plain(lambda pipe: pipe.hmget(key(post_id), [REACTION_FIELD + kind for kind in REACTIONS]), 1,
                       lambda replies: {k: int(v or 0) for k, v in zip(REACTIONS, replies[0])})


async def get_many(app: web.Application, ids: list[str]) -> list[dict]:
    return [unflatten(f) for f in await read_many(app, POST, ids, lambda pid: _load(app, pid))]


async def ensure_synced(app: web.Application) -> None:
    """Rebuild the lists, audience and counts from MongoDB if Redis lost them."""
    r = app[REDIS]
    if await r.exists(SYNCED):
        return
    keys = [SYNCED, POST.gone, ALL, IMAGES, VIDEOS, AUDIENCE, COUNTS]
    slots: dict[str, int] = {}
    args: list = []
    for entry in await store.index_entries(app[MONGO]):
        author = entry["userId"]
        if author not in slots:
            keys.append(by_user(author))
            slots[author] = len(keys)
        args += [entry["_id"], ms(entry["createdAt"]), slots[author], f"{author}:{entry['privacy']}",
                 "1" if has_image(entry) else "0", "1" if entry.get("videoId") else "0"]
    await _rebuild(keys=keys, args=args, client=r)


async def page(app: web.Application, listing: str, reader: str, skip: int, size: int,
               with_total: bool = False) -> tuple[list[str], int]:
    """Ids of the posts `reader` may see in `listing` (a LISTS name or by_user(id)), newest first."""
    keys = [LISTS.get(listing, listing), AUDIENCE, blocks.blocked_key(reader), blocks.blocked_by_key(reader),
            follows.following_key(reader), COUNTS, SYNCED]
    args = [reader, skip, size, "1" if with_total else "0"]
    total, *ids = await _page(keys=keys, args=args, client=app[REDIS])
    if total == -2:
        await ensure_synced(app)
        total, *ids = await _page(keys=keys, args=args, client=app[REDIS])
    return [i.decode() for i in ids], int(total)


def has_image(post: dict) -> bool:
    """What `/post/images` lists: posts with an image or a GIF (as the original did)."""
    return bool(post.get("imgId") or post.get("gifUrl"))


def _flags(post: dict, fields: dict) -> tuple[str, str]:
    """('1' list, '0' unlist, '' leave) for the image and video lists, after `fields` change `post`."""
    after = {**post, **fields}
    image = "" if not {"imgId", "gifUrl"} & set(fields) else ("1" if has_image(after) else "0")
    video = "" if "videoId" not in fields else ("1" if after.get("videoId") else "0")
    return image, video


def create(pipe, post: dict) -> None:
    score = ms(post["createdAt"])
    index.add(pipe, POST, flatten(post), score, [ALL, by_user(post["userId"])])
    run_script(pipe, _index, [key(post["_id"]), AUDIENCE, COUNTS, IMAGES, VIDEOS],
                 [post["_id"], f"{post['userId']}:{post['privacy']}", score, *_flags({}, post)])


def update(pipe, post: dict, fields: dict) -> None:
    """Change `fields` of `post` (as read before); lists and audience move only for fields given."""
    post_id = post["_id"]
    index.restore(pipe, POST, post_id, flatten(post))
    if fields:
        index.patch(pipe, key(post_id), fields)
    audience = f"{post['userId']}:{fields['privacy']}" if "privacy" in fields else "="
    run_script(pipe, _index, [key(post_id), AUDIENCE, COUNTS, IMAGES, VIDEOS],
                 [post_id, audience, ms(post["createdAt"]), *_flags(post, fields)])


def delete(pipe, post: dict, now_ms: float, user_key: str) -> None:
    """Delete the post and decrement its author's postsCount (in `user_key`) once, even if raced."""
    post_id = post["_id"]
    index.remove(pipe, POST, post_id, now_ms, ALL, [IMAGES, VIDEOS, by_user(post["userId"])],
                 counter=(user_key, "postsCount"))
    run_script(pipe, _index, [key(post_id), AUDIENCE, COUNTS, IMAGES, VIDEOS], [post_id, "", 0, "", ""])


def restore(pipe, post: dict, encoded: dict | None = None) -> None:
    """`encoded`: the post's hash as `read_for_change` found it (re-encoding a post costs ~30 µs)."""
    index.restore(pipe, POST, post["_id"], None if encoded else flatten(post), encoded)


def bump_comments(pipe, post_id: str, delta: int) -> None:
    index.bump(pipe, key(post_id), COMMENTS_COUNT, delta)
