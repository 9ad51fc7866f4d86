"""Who is online, right across API instances and across an instance's crash.

Each instance counts its own sockets per username in `presence:<instance>`
and beats in `presence:live` (instance -> last beat, ms). The online list is
the union over instances with a fresh beat, so the users of an instance that
died without cleaning up drop out within STALE seconds, and its hash expires.
Every command goes through the Batcher, which never retries: a retried HINCRBY
that had run would keep a user online after their last socket left.
"""
from __future__ import annotations

import asyncio
import logging
import time
import uuid
from typing import AsyncIterator

from aiohttp import web

from mysocial.core import functions
from mysocial.core.appkeys import BATCH

log = logging.getLogger("mysocial.presence")
LIVE = "presence:live"
BEAT = 10
STALE = 3 * BEAT
INSTANCE = web.AppKey("presence_instance", str)


def key(instance: str) -> str:
    return f"presence:{instance}"


def _now_ms() -> int:
    return int(time.time() * 1000)


async def _live(app: web.Application) -> list[str]:
    [members] = await app[BATCH].run(lambda pipe: pipe.zrangebyscore(LIVE, _now_ms() - STALE * 1000, "+inf"))
    return [m.decode() for m in members]


async def beat(app: web.Application, instance: str) -> None:
    def queue(pipe) -> None:
        pipe.zadd(LIVE, {instance: _now_ms()})
        pipe.expire(key(instance), STALE * 2)
        pipe.zremrangebyscore(LIVE, "-inf", _now_ms() - STALE * 10_000)

    await app[BATCH].transaction(queue)


async def join(app: web.Application, username: str) -> None:
    """Count one socket more here."""
    instance = app[INSTANCE]

    def queue(pipe) -> None:
        pipe.hincrby(key(instance), username, 1)
        pipe.expire(key(instance), STALE * 2)

    await app[BATCH].transaction(queue)


async def leave(app: web.Application, username: str) -> bool:
    """Count one socket less here; True when the user has no socket left on any live instance."""
    [left] = await app[BATCH].run(lambda pipe: functions.call(pipe, "presence_leave", [key(app[INSTANCE])],
                                                              {"username": username}))
    if left > 0:
        return False
    others = [i for i in await _live(app) if i != app[INSTANCE]]
    if not others:
        return True

    def queue(pipe) -> None:
        for instance in others:
            pipe.hexists(key(instance), username)

    return not any(await app[BATCH].run(queue))


async def online(app: web.Application) -> list[str]:
    """Usernames with a socket on any instance whose heartbeat is fresh, sorted."""
    instances = await _live(app)
    if app[INSTANCE] not in instances:
        instances.append(app[INSTANCE])

    def queue(pipe) -> None:
        for instance in instances:
            pipe.hkeys(key(instance))

    return sorted({n.decode() for group in await app[BATCH].run(queue) for n in group})


async def heartbeat_ctx(app: web.Application) -> AsyncIterator[None]:
    """This instance's heartbeat while it serves; its presence is removed when it stops."""
    app[INSTANCE] = uuid.uuid4().hex
    await beat(app, app[INSTANCE])

    async def loop() -> None:
        while True:
            await asyncio.sleep(BEAT)
            try:
                await beat(app, app[INSTANCE])
            except Exception:
                log.exception("presence heartbeat failed")

    task = asyncio.create_task(loop())
    yield
    task.cancel()
    try:
        await app[BATCH].transaction(lambda pipe: (pipe.zrem(LIVE, app[INSTANCE]), pipe.delete(key(app[INSTANCE]))))
    except Exception:  # Redis gone at shutdown: the stale beat and the hash's TTL clean up
        log.warning("could not remove this instance's presence", exc_info=True)
