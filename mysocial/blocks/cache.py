"""Blocks in Redis: `blocked:<id>` (whom I blocked) and `blockedby:<id>` (who blocked me) sets.

The sets have no TTL. Blocks are few, so after a cache loss they are rebuilt
all at once from MongoDB on first use (`blocks:synced` marks it done). A block
or unblock changes the sets, the users' `blocked` / `blockedBy` lists in their
hashes, and (for a block) ends follows both ways with their counters, in one
Lua script.
"""
from __future__ import annotations

import redis.asyncio as aredis
from aiohttp import web
from redis.commands.core import AsyncScript

from mysocial.blocks import store
from mysocial.core.appkeys import MONGO, REDIS
from mysocial.core.mongo import edge_ends
from mysocial.core.reads import Read, read_one
from mysocial.core.redis import run_script
from mysocial.followers import cache as follows
from mysocial.users.cache import key as user_key

SYNCED = "blocks:synced"

_SYNC_LUA = """
if redis.call('EXISTS', KEYS[1]) == 1 then return 0 end
for i = 2, #KEYS, 2 do
  redis.call('SADD', KEYS[i], ARGV[i - 1])
  redis.call('SADD', KEYS[i + 1], ARGV[i])
end
redis.call('SET', KEYS[1], 1)
return 1
"""
_sync = AsyncScript(aredis.Redis(), _SYNC_LUA)

# JSON lists inside a user hash (`blocked`, `blockedBy`); cjson writes {} for an empty table.
_LIST_FNS = """
local function list_of(key, field)
  local raw = redis.call('HGET', key, field)
  local t = raw and cjson.decode(raw) or {}
  if type(t) ~= 'table' then t = {} end
  return t
end
local function store_list(key, field, t)
  redis.call('HSET', key, field, #t == 0 and '[]' or cjson.encode(t))
end
local function push(key, field, value)
  local t = list_of(key, field)
  for _, v in ipairs(t) do if v == value then return end end
  table.insert(t, value)
  store_list(key, field, t)
end
local function pull(key, field, value)
  local out = {}
  for _, v in ipairs(list_of(key, field)) do if v ~= value then table.insert(out, v) end end
  store_list(key, field, out)
end
"""
# KEYS: follows loaded, user:a, user:b, blocked:a, blockedby:b, following:a, followers:b,
#       following:b, followers:a, synced; ARGV: a (blocker), b (blocked)
_BLOCK = AsyncScript(aredis.Redis(), follows.READY_FN + follows.UNFOLLOW_FN + _LIST_FNS + """
if not ready(KEYS[1], ARGV[1], ARGV[2], KEYS[2], KEYS[3]) or redis.call('EXISTS', KEYS[10]) == 0 then return {-1} end
if redis.call('SADD', KEYS[4], ARGV[2]) == 0 then return {0, 0, 0} end
redis.call('SADD', KEYS[5], ARGV[1])
push(KEYS[2], 'blocked', ARGV[2])
push(KEYS[3], 'blockedBy', ARGV[1])
local ab = unfollow(KEYS[6], KEYS[7], KEYS[2], KEYS[3], ARGV[1], ARGV[2])
local ba = unfollow(KEYS[8], KEYS[9], KEYS[3], KEYS[2], ARGV[2], ARGV[1])
return {1, ab, ba}
""")
# KEYS: user:a, user:b, blocked:a, blockedby:b, synced; ARGV: a, b
_UNBLOCK = AsyncScript(aredis.Redis(), _LIST_FNS + """
for _, k in ipairs({KEYS[1], KEYS[2], KEYS[5]}) do
  if redis.call('EXISTS', k) == 0 then return -1 end
end
if redis.call('SREM', KEYS[3], ARGV[2]) == 0 then return 0 end
redis.call('SREM', KEYS[4], ARGV[1])
pull(KEYS[1], 'blocked', ARGV[2])
pull(KEYS[2], 'blockedBy', ARGV[1])
return 1
""")


def blocked_key(user_id: str) -> str:
    return f"blocked:{user_id}"


def blocked_by_key(user_id: str) -> str:
    return f"blockedby:{user_id}"


def _sync_args(pairs: list[tuple[str, str]]) -> tuple[list, list]:
    keys, args = [SYNCED], []
    for blocker, blocked in pairs:
        keys += [blocked_key(blocker), blocked_by_key(blocked)]
        args += [blocked, blocker]
    return keys, args


async def ready(app: web.Application) -> None:
    """Rebuild the block sets from MongoDB if the cache lost them."""
    if not await app[REDIS].exists(SYNCED):
        keys, args = _sync_args(await store.pairs(app[MONGO]))
        await _sync(keys=keys, args=args, client=app[REDIS])


def hidden(user_id: str) -> Read:
    """Everyone `user_id` must not see or reach: whom they blocked and who blocked them."""
    def queue(pipe) -> None:
        pipe.exists(SYNCED)
        pipe.sunion(blocked_key(user_id), blocked_by_key(user_id))

    async def finish(app: web.Application, replies: list) -> set[str]:
        if not replies[0]:
            await ready(app)
            return await hidden_from(app, user_id)
        return {m.decode() for m in replies[1]}

    return Read(queue, 2, finish)


def blocked_between(a: str, b: str) -> Read:
    """True when either user blocks the other."""
    def queue(pipe) -> None:
        pipe.exists(SYNCED)
        pipe.sismember(blocked_key(a), b)
        pipe.sismember(blocked_key(b), a)

    async def finish(app: web.Application, replies: list) -> bool:
        if not replies[0]:
            await ready(app)
            return await between(app, a, b)
        return bool(replies[1] or replies[2])

    return Read(queue, 3, finish)


async def hidden_from(app: web.Application, user_id: str) -> set[str]:
    return await read_one(app, hidden(user_id))


async def between(app: web.Application, a: str, b: str) -> bool:
    return await read_one(app, blocked_between(a, b))


async def blocked_by(app: web.Application, blocker: str) -> list[str]:
    """Whom `blocker` blocks."""
    await ready(app)
    return sorted(m.decode() for m in await app[REDIS].smembers(blocked_key(blocker)))


async def is_blocking(app: web.Application, blocker: str, blocked: str) -> bool:
    await ready(app)
    return bool(await app[REDIS].sismember(blocked_key(blocker), blocked))


def guard_keys(a: str, b: str) -> tuple[str, str]:
    """The sets a follow between a and b must check (followers.cache.start_following)."""
    return blocked_key(a), blocked_key(b)


def block(pipe, blocker: str, blocked: str) -> None:
    """The bare sets only (seeding, tests); the block route uses `add_block`."""
    pipe.sadd(blocked_key(blocker), blocked)
    pipe.sadd(blocked_by_key(blocked), blocker)


def unblock(pipe, blocker: str, blocked: str) -> None:
    """The bare sets only; the unblock route uses `remove_block`."""
    pipe.srem(blocked_key(blocker), blocked)
    pipe.srem(blocked_by_key(blocked), blocker)


def add_block(pipe, blocker: str, blocked: str) -> None:
    """Block, update both users' lists and end follows both ways.

    Answers [changed, ended blocker→blocked, ended blocked→blocker] (1/0 each), or [NOT_READY].
    """
    a, b = blocker, blocked
    run_script(pipe, _BLOCK, [
        follows.LOADED, user_key(a), user_key(b), blocked_key(a), blocked_by_key(b),
        follows.following_key(a), follows.followers_key(b), follows.following_key(b), follows.followers_key(a),
        SYNCED,
    ], [a, b])


def remove_block(pipe, blocker: str, blocked: str) -> None:
    """Unblock and update both users' lists; answers 1, 0 (was not blocked) or NOT_READY."""
    run_script(pipe, _UNBLOCK,
               [user_key(blocker), user_key(blocked), blocked_key(blocker), blocked_by_key(blocked), SYNCED],
               [blocker, blocked])


# Workers (synchronous Redis and MongoDB)


def ready_sync(r, db) -> None:
    if not r.exists(SYNCED):
        keys, args = _sync_args(store.pairs_sync(db))
        r.eval(_SYNC_LUA, len(keys), *keys, *args)


def between_sync(r, db, a: str, b: str) -> bool:
    ready_sync(r, db)
    return bool(r.sismember(blocked_key(a), b) or r.sismember(blocked_key(b), a))


def hidden_from_sync(r, db, user_id: str) -> set[str]:
    ready_sync(r, db)
    return {m.decode() for m in r.sunion(blocked_key(user_id), blocked_by_key(user_id))}


def load_edge(r, edge: str) -> dict | None:
    """The current cached state of a block `<blocker>-<blocked>`, None when absent."""
    blocker, blocked = edge_ends(edge)
    if not r.sismember(blocked_key(blocker), blocked):
        return None
    return {"blockerId": blocker, "blockedId": blocked}
