"""Redis clients: asyncio for the API, synchronous for workers; one codec for hashes."""
from __future__ import annotations

import socket
from typing import Any, AsyncIterator

import orjson
import redis
import redis.asyncio as aredis
from aiohttp import web
from redis.asyncio.retry import Retry as AsyncRetry
from redis.backoff import ExponentialBackoff
from redis.retry import Retry
from redis.utils import HIREDIS_AVAILABLE

from mysocial.config import Settings
from mysocial.core.appkeys import REDIS

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


def redis_ctx(settings: Settings):
    async def ctx(app: web.Application) -> AsyncIterator[None]:
        client = async_client(settings.redis_url)
        await client.ping()
        app[REDIS] = client
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
