"""Redis clients: asyncio for the API, synchronous for workers; one codec for hashes."""
from __future__ import annotations

import asyncio
import socket
from typing import Any, AsyncIterator, Callable

import orjson
import redis
import redis.asyncio as aredis
from aiohttp import web
from redis.asyncio.retry import Retry as AsyncRetry
from redis.backoff import ExponentialBackoff
from redis.retry import Retry
from redis.utils import HIREDIS_AVAILABLE

from mysocial.config import Settings
from mysocial.core.appkeys import BATCH, REDIS

if HIREDIS_AVAILABLE:
    import hiredis


class HiredisPacking(aredis.Connection):
    """Packs commands in C with hiredis. redis-py's asyncio connection packs in Python, and
    its hiredis serializer copies every argument first; together a tenth of a write
    request's CPU in the bench. Arguments hiredis refuses go the library's way (and errors)."""

    _pack = staticmethod(hiredis.pack_command) if HIREDIS_AVAILABLE else None

    def pack_command(self, *args):
        if self._pack is None:
            return super().pack_command(*args)
        if isinstance(args[0], str) and " " in args[0]:  # "SCRIPT LOAD", "CLIENT SETINFO"
            args = (*args[0].split(), *args[1:])
        try:
            return [self._pack(args)]
        except TypeError:
            return super().pack_command(*args)


KEEPALIVE = {getattr(socket, name): value for name, value in
             (("TCP_KEEPIDLE", 10), ("TCP_KEEPINTVL", 5), ("TCP_KEEPCNT", 3)) if hasattr(socket, name)}


# For every asyncio client (the API's and the Socket.IO manager's). No per-command timeout:
# redis-py's asyncio client runs each send in a task and each reply in a timeout scope for
# it, which doubled its CPU per command (bench: a 20-command write transaction 590 -> 320 us).
# TCP keepalive finds a dead connection within about 25 s; connecting still times out at 5 s.
ASYNC_OPTIONS = {"connection_class": HiredisPacking, "socket_timeout": None, "socket_connect_timeout": 5,
                 "socket_keepalive": True, "socket_keepalive_options": KEEPALIVE}


def async_client(url: str) -> aredis.Redis:
    """Reconnects (a few quick retries) when Redis restarted under a pooled connection."""
    return aredis.Redis.from_url(url, max_connections=256, retry=AsyncRetry(ExponentialBackoff(0.2, 0.005), 3),
                                 retry_on_error=[redis.ConnectionError], **ASYNC_OPTIONS)


def sync_client(url: str) -> redis.Redis:
    return redis.Redis.from_url(url, retry=Retry(ExponentialBackoff(0.2, 0.005), 3),
                                retry_on_error=[redis.ConnectionError])


Queue = Callable[[Any], None]


class Batcher:
    """Auto-pipelining for reads: the commands that concurrent requests queue while a batch
    is on its way go out together in the next one, one round trip for all of them.

    A round trip costs the API ~150 µs of CPU here (redis-py's pool and reply
    machinery, and the socket calls), more than most of the work it carries.
    One batch is in flight at a time, so a read waits at most one round trip
    more; a command's error goes to the request that queued it. Only for
    commands that need no transaction: writes still commit on their own.
    """

    def __init__(self, client: aredis.Redis):
        self._client = client
        self._waiting: list[tuple[Queue, asyncio.Future]] = []
        self._sender: asyncio.Task | None = None

    async def run(self, queue: Queue) -> list:
        """The replies to the commands `queue` adds to a pipeline."""
        future = asyncio.get_running_loop().create_future()
        self._waiting.append((queue, future))
        if self._sender is None or self._sender.done():
            self._sender = asyncio.create_task(self._send_waiting())
        return await future

    async def _send_waiting(self) -> None:
        while self._waiting:
            batch, self._waiting = self._waiting, []
            sizes = []
            try:
                async with self._client.pipeline(transaction=False) as pipe:
                    for queue, _ in batch:
                        before = len(pipe.command_stack)
                        queue(pipe)
                        sizes.append(len(pipe.command_stack) - before)
                    replies = await pipe.execute(raise_on_error=False)
            except Exception as exc:
                for _, future in batch:
                    if not future.done():
                        future.set_exception(exc)
                continue
            at = 0
            for (_, future), size in zip(batch, sizes):
                part, at = replies[at:at + size], at + size
                if future.done():
                    continue
                error = next((r for r in part if isinstance(r, Exception)), None)
                if error is None:
                    future.set_result(part)
                else:
                    future.set_exception(error)


def redis_ctx(settings: Settings):
    async def ctx(app: web.Application) -> AsyncIterator[None]:
        client = async_client(settings.redis_url)
        await client.ping()
        app[REDIS] = client
        app[BATCH] = Batcher(client)
        yield
        await client.aclose()

    return ctx


def to_hash(doc: dict) -> dict[str, bytes]:
    """Every field JSON-encoded, so integers stay HINCRBY-able and nesting survives."""
    return {k: orjson.dumps(v) for k, v in doc.items()}


def from_hash(raw: dict) -> dict[str, Any]:
    return {(k.decode() if isinstance(k, bytes) else k): orjson.loads(v) for k, v in raw.items()}


def text(value: bytes | str | None) -> str | None:
    return value.decode() if isinstance(value, bytes) else value


def run_script(pipe, script, keys: list, args: list) -> None:
    """Queue a Lua script on a pipeline from synchronous code (`apply`).

    EVAL with the source, not EVALSHA: a pipeline holding EVALSHA first asks
    SCRIPT EXISTS, one more round trip on every write; Redis caches the
    compiled script by its hash either way.
    """
    pipe.eval(script.script, len(keys), *keys, *args)
