"""Follow lists in Redis: `followers:<id>` and `following:<id>` sorted sets (score: when)."""
from __future__ import annotations

from aiohttp import web

from mysocial.core.appkeys import REDIS


def followers_key(user_id: str) -> str:
    return f"followers:{user_id}"


def following_key(user_id: str) -> str:
    return f"following:{user_id}"


async def follower_ids(app: web.Application, user_id: str) -> list[str]:
    return [m.decode() for m in await app[REDIS].zrevrange(followers_key(user_id), 0, -1)]


async def following_ids(app: web.Application, user_id: str) -> list[str]:
    return [m.decode() for m in await app[REDIS].zrevrange(following_key(user_id), 0, -1)]


async def is_following(app: web.Application, follower: str, followee: str) -> bool:
    return await app[REDIS].zscore(following_key(follower), followee) is not None


def follow(pipe, follower: str, followee: str, at_ms: float) -> None:
    pipe.zadd(following_key(follower), {followee: at_ms})
    pipe.zadd(followers_key(followee), {follower: at_ms})


def unfollow(pipe, follower: str, followee: str) -> None:
    pipe.zrem(following_key(follower), followee)
    pipe.zrem(followers_key(followee), follower)
