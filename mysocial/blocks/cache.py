"""Blocks in Redis: `blocked:<id>` (whom I blocked) and `blockedby:<id>` (who blocked me) sets."""
from __future__ import annotations

from aiohttp import web

from mysocial.core.appkeys import REDIS


def blocked_key(user_id: str) -> str:
    return f"blocked:{user_id}"


def blocked_by_key(user_id: str) -> str:
    return f"blockedby:{user_id}"


async def hidden_from(app: web.Application, user_id: str) -> set[str]:
    """Everyone `user_id` must not see or reach: whom they blocked and who blocked them."""
    raw = await app[REDIS].sunion(blocked_key(user_id), blocked_by_key(user_id))
    return {m.decode() for m in raw}


async def between(app: web.Application, a: str, b: str) -> bool:
    """True when either user blocks the other."""
    async with app[REDIS].pipeline(transaction=False) as pipe:
        pipe.sismember(blocked_key(a), b)
        pipe.sismember(blocked_key(b), a)
        return any(await pipe.execute())


def block(pipe, blocker: str, blocked: str) -> None:
    pipe.sadd(blocked_key(blocker), blocked)
    pipe.sadd(blocked_by_key(blocked), blocker)


def unblock(pipe, blocker: str, blocked: str) -> None:
    pipe.srem(blocked_key(blocker), blocked)
    pipe.srem(blocked_by_key(blocked), blocker)
