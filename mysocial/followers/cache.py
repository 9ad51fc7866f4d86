"""Follow lists in Redis: `followers:<id>` and `following:<id>` sorted sets (score: when, in ms).

They have no TTL and are rebuilt from MongoDB per user when missing
(`follows:loaded` marks users whose sets are in Redis; see core/indexes.py).
The counters are the `followersCount` / `followingCount` fields of the user
hashes, changed by the same Lua script that changes the edge, and only when
the edge really changed.
"""
from __future__ import annotations

from datetime import datetime, timezone

import redis.asyncio as aredis
from aiohttp import web
from redis.commands.core import AsyncScript

from mysocial.core import indexes
from mysocial.core.appkeys import MONGO, REDIS
from mysocial.core.mongo import edge_ends
from mysocial.core.redis import run_script
from mysocial.followers import store
from mysocial.users.cache import key as user_key

LOADED = "follows:loaded"
CHANGED, UNCHANGED, BLOCKED = 1, 0, -2  # and -1: core.writepath.NOT_READY

# Lua functions shared by the scripts here and by the block script (blocks/cache.py).
READY_FN = """
local function ready(loaded, a, b, user_a, user_b)
  return redis.call('SISMEMBER', loaded, a) == 1 and redis.call('SISMEMBER', loaded, b) == 1
     and redis.call('EXISTS', user_a) == 1 and redis.call('EXISTS', user_b) == 1
end
"""
UNFOLLOW_FN = """
local function unfollow(following_a, followers_b, user_a, user_b, a, b)
  if redis.call('ZREM', following_a, b) == 0 then return 0 end
  redis.call('ZREM', followers_b, a)
  redis.call('HINCRBY', user_a, 'followingCount', -1)
  redis.call('HINCRBY', user_b, 'followersCount', -1)
  return 1
end
"""
# KEYS: loaded, following:a, followers:b, user:a, user:b, blocked:a, blocked:b; ARGV: a, b, ms
_START = AsyncScript(aredis.Redis(), READY_FN + """
if not ready(KEYS[1], ARGV[1], ARGV[2], KEYS[4], KEYS[5]) then return -1 end
if redis.call('SISMEMBER', KEYS[6], ARGV[2]) == 1 or redis.call('SISMEMBER', KEYS[7], ARGV[1]) == 1 then return -2 end
if redis.call('ZADD', KEYS[2], 'NX', ARGV[3], ARGV[2]) == 0 then return 0 end
redis.call('ZADD', KEYS[3], ARGV[3], ARGV[1])
redis.call('HINCRBY', KEYS[4], 'followingCount', 1)
redis.call('HINCRBY', KEYS[5], 'followersCount', 1)
return 1
""")
# KEYS: loaded, following:a, followers:b, user:a, user:b; ARGV: a, b
_STOP = AsyncScript(aredis.Redis(), READY_FN + UNFOLLOW_FN + """
if not ready(KEYS[1], ARGV[1], ARGV[2], KEYS[4], KEYS[5]) then return -1 end
return unfollow(KEYS[2], KEYS[3], KEYS[4], KEYS[5], ARGV[1], ARGV[2])
""")


def followers_key(user_id: str) -> str:
    return f"followers:{user_id}"


def following_key(user_id: str) -> str:
    return f"following:{user_id}"


async def _load(app: web.Application, user_id: str) -> indexes.Entries:
    following, followers = await store.edges_of(app[MONGO], user_id)
    return {following_key(user_id): following, followers_key(user_id): followers}


async def ready(app: web.Application, *user_ids: str) -> None:
    """Make sure these users' follow sets are in Redis (rebuilt from MongoDB if not)."""
    await indexes.ensure(app[REDIS], LOADED, user_ids, lambda uid: _load(app, uid))


async def follower_ids(app: web.Application, user_id: str) -> list[str]:
    await ready(app, user_id)
    return [m.decode() for m in await app[REDIS].zrevrange(followers_key(user_id), 0, -1)]


async def following_ids(app: web.Application, user_id: str) -> list[str]:
    await ready(app, user_id)
    return [m.decode() for m in await app[REDIS].zrevrange(following_key(user_id), 0, -1)]


async def is_following(app: web.Application, follower: str, followee: str) -> bool:
    await ready(app, follower)
    return await app[REDIS].zscore(following_key(follower), followee) is not None


def follow(pipe, follower: str, followee: str, at_ms: float) -> None:
    """The bare edge, without counters (seeding, tests); the follow route uses `start_following`."""
    pipe.zadd(following_key(follower), {followee: at_ms})
    pipe.zadd(followers_key(followee), {follower: at_ms})


def unfollow(pipe, follower: str, followee: str) -> None:
    """The bare edge, without counters; the unfollow route uses `stop_following`."""
    pipe.zrem(following_key(follower), followee)
    pipe.zrem(followers_key(followee), follower)


def start_following(pipe, follower: str, followee: str, at_ms: float, blocked_keys: tuple[str, str]) -> None:
    """Add the edge and both counters if absent; answers CHANGED, UNCHANGED, BLOCKED or NOT_READY.

    `blocked_keys`: the two users' block sets (blocks.cache.guard_keys), checked in the same script.
    """
    run_script(pipe, _START,
               [LOADED, following_key(follower), followers_key(followee), user_key(follower), user_key(followee),
                *blocked_keys],
               [follower, followee, at_ms])


def stop_following(pipe, follower: str, followee: str) -> None:
    """Remove the edge and both counters if present; answers CHANGED, UNCHANGED or NOT_READY."""
    run_script(pipe, _STOP,
               [LOADED, following_key(follower), followers_key(followee), user_key(follower), user_key(followee)],
               [follower, followee])


# Workers (synchronous Redis)


def load_edge(r, edge: str) -> dict | None:
    """The current cached state of a follow edge `<follower>-<followee>`, None when absent."""
    follower, followee = edge_ends(edge)
    ms = r.zscore(following_key(follower), followee)
    if ms is None:
        return None
    return {"followerId": follower, "followeeId": followee, "createdAt": datetime.fromtimestamp(ms / 1000, timezone.utc)}


def followed_at(r, follower: str, followee: str) -> float | None:
    return r.zscore(following_key(follower), followee)

