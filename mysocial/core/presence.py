"""Who is online, right across API instances and across an instance's crash.

Each instance counts its own sockets per username in `presence:<instance>`
and beats in `presence:live` (instance -> last beat, ms). The online list is
the union over instances with a fresh beat, so the users of an instance that
died without cleaning up drop out within STALE seconds, and its hash expires.
"""
from __future__ import annotations

import asyncio
import logging
import time
import uuid
from typing import AsyncIterator

import redis.asyncio as aredis
from aiohttp import web
from redis.commands.core import AsyncScript

from mysocial.core.appkeys import BATCH, REDIS
from mysocial.core.redis import run_script

log = logging.getLogger("mysocial.presence")
LIVE = "presence:live"
BEAT = 10
STALE = 3 * BEAT
INSTANCE = web.AppKey("presence_instance", str)

_LEAVE_LUA = """
local n = redis.call('HINCRBY', KEYS[1], ARGV[1], -1)
if n <= 0 then redis.call('HDEL', KEYS[1], ARGV[1]) end
return n
"""
_leave = AsyncScript(aredis.Redis(), _LEAVE_LUA)


def key(instance: str) -> str:
    return f"presence:{instance}"


def _now_ms() -> int:
    return int(time.time() * 1000)


async def _live(r: aredis.Redis) -> list[str]:
    return [m.decode() for m in await r.zrangebyscore(LIVE, _now_ms() - STALE * 1000, "+inf")]


async def beat(r: aredis.Redis, instance: str) -> None:
    async with r.pipeline(transaction=True) as pipe:
        pipe.zadd(LIVE, {instance: _now_ms()})
        pipe.expire(key(instance), STALE * 2)
        pipe.zremrangebyscore(LIVE, "-inf", _now_ms() - STALE * 10_000)
        await pipe.execute()


async def join(app: web.Application, username: str) -> None:
    """Count one socket more here. Through the Batcher, which never retries: a retried
    HINCRBY that had run would keep the user online after their last socket left."""
    instance = app[INSTANCE]

    def queue(pipe) -> None:
        pipe.hincrby(key(instance), username, 1)
        pipe.expire(key(instance), STALE * 2)

    await app[BATCH].transaction(queue)


async def leave(app: web.Application, username: str) -> bool:
    """Count one socket less here; True when the user has no socket left on any live instance."""
    r = app[REDIS]
    [left] = await app[BATCH].run(lambda pipe: run_script(pipe, _leave, [key(app[INSTANCE])], [username]))
    if left > 0:
        return False
    others = [i for i in await _live(r) if i != app[INSTANCE]]
    if not others:
        return True
    async with r.pipeline(transaction=False) as pipe:
        for instance in others:
            pipe.hexists(key(instance), username)
        return not any(await pipe.execute())


async def online(app: web.Application) -> list[str]:
    """Usernames with a socket on any instance whose heartbeat is fresh, sorted."""
    r = app[REDIS]
    instances = await _live(r)
    if app[INSTANCE] not in instances:
        instances.append(app[INSTANCE])
    async with r.pipeline(transaction=False) as pipe:
        for instance in instances:
            pipe.hkeys(key(instance))
        names = await pipe.execute()
    return sorted({n.decode() for group in names for n in group})


async def heartbeat_ctx(app: web.Application) -> AsyncIterator[None]:
    """This instance's heartbeat while it serves; its presence is removed when it stops."""
    app[INSTANCE] = uuid.uuid4().hex
    r = app[REDIS]
    await beat(r, app[INSTANCE])

    async def loop() -> None:
        while True:
            await asyncio.sleep(BEAT)
            try:
                await beat(r, app[INSTANCE])
            except Exception:
                log.exception("presence heartbeat failed")

    task = asyncio.create_task(loop())
    yield
    task.cancel()
    try:
        async with r.pipeline(transaction=True) as pipe:
            pipe.zrem(LIVE, app[INSTANCE])
            pipe.delete(key(app[INSTANCE]))
            await pipe.execute()
    except Exception:  # Redis gone at shutdown: the stale beat and the hash's TTL clean up
        log.warning("could not remove this instance's presence", exc_info=True)
