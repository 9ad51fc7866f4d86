"""Redis clients: asyncio for the API, synchronous for workers; one codec for hashes."""
from __future__ import annotations

import asyncio
import inspect
from dataclasses import dataclass, field
from typing import Any, AsyncIterator, Callable

import orjson
import redis
import redis.asyncio as aredis
from aiohttp import web
from redis.asyncio.retry import Retry as AsyncRetry
from redis.backoff import ExponentialBackoff
from redis.client import EMPTY_RESPONSE, NEVER_DECODE
from redis.maint_notifications import MaintNotificationsConfig
from redis.retry import Retry
from redis.utils import HIREDIS_AVAILABLE

from mysocial.config import Settings
from mysocial.core.appkeys import BATCH, JOBS, REDIS
from mysocial.core.functions import Refused, load
from mysocial.core.wire import KEEPALIVE, Wire

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


# For every asyncio client (the API's and the Socket.IO manager's). No per-command timeout:
# redis-py's asyncio client runs each send in a task and each reply in a timeout scope for
# it, which doubled its CPU per command (bench: a 20-command write transaction 590 -> 320 us).
# TCP keepalive finds a dead connection within about 25 s; connecting still times out at 5 s.
# Maintenance notifications (a Redis Enterprise/Cloud feature) are off: with them on, the pool
# no longer treats a pooled connection with unread data (EOF from a restarted Redis) as stale,
# and the first command on it fails instead of reconnecting.
ASYNC_OPTIONS = {"connection_class": HiredisPacking, "socket_timeout": None, "socket_connect_timeout": 5,
                 "socket_keepalive": True, "socket_keepalive_options": KEEPALIVE,
                 "maint_notifications_config": MaintNotificationsConfig(enabled=False)}


def async_client(url: str, retries: int = 3, name: str | None = None) -> aredis.Redis:
    """`retries` quick retries of a command that met a connection error (Redis restarting).
    A pooled connection whose Redis restarted is replaced before use either way. `name` is the
    connections' CLIENT SETNAME."""
    return aredis.Redis.from_url(url, max_connections=256, retry=AsyncRetry(ExponentialBackoff(0.2, 0.005), retries),
                                 retry_on_error=[redis.ConnectionError], client_name=name, **ASYNC_OPTIONS)


def sync_client(url: str) -> redis.Redis:
    return redis.Redis.from_url(url, retry=Retry(ExponentialBackoff(0.2, 0.005), 3),
                                retry_on_error=[redis.ConnectionError])


Queue = Callable[[Any], None]


@dataclass
class _Waiting:
    queue: Queue
    transaction: bool
    future: asyncio.Future
    commands: list = field(default_factory=list)


class Batcher:
    """Auto-pipelining: what concurrent requests send while a batch is on its way goes out
    together in the next one — plain reads, and transactions each in its own MULTI/EXEC
    (so each stays atomic). One round trip for all of them.

    A round trip through redis-py's pipeline cost the API ~150-400 µs of CPU here (its pool
    and reply machinery, and the socket calls), more than most of the work it carries; with
    8 transactions in flight, sharing one cut their CPU by half (bench). The batch goes out
    on a `Wire` of its own (redis-py's commands recorded, packed by hiredis, the replies read
    by hiredis's reader), which took another ~150 µs off a bare request. One batch is in
    flight at a time, so a request waits at most one round trip more. A command's error, or
    a transaction's EXECABORT, goes to the request that sent it. Replies get the client's
    usual response callbacks. A library function's refusal is a `Refused` among the results
    (core.functions), not an error.
    """

    def __init__(self, client: aredis.Redis):
        """`client` gives the connection settings and the response callbacks; it should not retry
        (`async_client(url, retries=0)`): a batch whose connection broke after Redis ran it
        must not run again, or a transaction would apply twice."""
        self._client = client
        self._wire = Wire(client)
        options = client.connection_pool.connection_kwargs  # only the encoder's: TLS or unix options are the Wire's
        self._pack = HiredisPacking(**{k: options[k] for k in ("encoding", "encoding_errors", "decode_responses")
                                       if k in options})
        self._callbacks = client.response_callbacks
        self._waiting: list[_Waiting] = []
        self._sender: asyncio.Task | None = None

    async def close(self) -> None:
        self._wire.close()
        await self._client.aclose()

    async def load_functions(self) -> None:
        """Load the function library into this Batcher's Redis (one that lost it: replaced, flushed)."""
        await load(self._client)

    async def run(self, queue: Queue) -> list:
        """The replies to the commands `queue` adds to a pipeline."""
        return await self._submit(queue, transaction=False)

    async def transaction(self, queue: Queue) -> list:
        """The results of the commands `queue` adds, run in one MULTI/EXEC."""
        return await self._submit(queue, transaction=True)

    async def _submit(self, queue: Queue, transaction: bool) -> list:
        waiting = _Waiting(queue, transaction, asyncio.get_running_loop().create_future())
        self._waiting.append(waiting)
        if self._sender is None or self._sender.done():
            self._sender = asyncio.create_task(self._send_waiting())
        return await waiting.future

    async def _send_waiting(self) -> None:
        while self._waiting:
            batch, self._waiting = self._waiting, []
            # No response callbacks on the wire: inside MULTI every reply is QUEUED.
            pipe = aredis.client.Pipeline(self._client.connection_pool, {}, False, None)
            batch = [waiting for waiting in batch if self._add(pipe, waiting)]
            try:
                replies = await self._execute(pipe)
            except Exception as exc:
                for waiting in batch:
                    if not waiting.future.done():
                        waiting.future.set_exception(exc)
                continue
            at = 0
            for waiting in batch:
                size = len(waiting.commands) + (2 if waiting.transaction else 0)
                mine, at = replies[at:at + size], at + size
                if waiting.future.done():
                    continue
                try:
                    await self._answer(waiting, mine[-1] if waiting.transaction else mine)
                except Exception as exc:  # a response callback failed: that request's error only
                    if not waiting.future.done():
                        waiting.future.set_exception(exc)

    async def _execute(self, pipe) -> list:
        """The raw replies to the commands queued on `pipe` (only a recorder here), errors as values."""
        packed = [b"".join(self._pack.pack_command(*args)) for args, _options in pipe.command_stack]
        return await self._wire.execute(packed)

    @staticmethod
    def _add(pipe, waiting: _Waiting) -> bool:
        """Queue one request's commands; a request whose `queue` fails gets the error alone."""
        mark = len(pipe.command_stack)
        try:
            if waiting.transaction:
                pipe.execute_command("MULTI")
            start = len(pipe.command_stack)
            waiting.queue(pipe)
            waiting.commands = pipe.command_stack[start:]
            if waiting.transaction:
                pipe.execute_command("EXEC")
        except Exception as exc:
            del pipe.command_stack[mark:]
            waiting.future.set_exception(exc)
            return False
        return True

    async def _answer(self, waiting: _Waiting, replies) -> None:
        if isinstance(replies, Exception):  # EXECABORT: a command was refused, none ran
            waiting.future.set_exception(replies)
            return
        if replies is None or len(replies) != len(waiting.commands):
            waiting.future.set_exception(redis.ResponseError("The transaction did not run"))
            return
        values = []
        for (args, options), reply in zip(waiting.commands, replies):
            if isinstance(reply, Exception):
                refused = Refused.parse(reply)
                if refused is None:
                    waiting.future.set_exception(reply)
                    return
                values.append(refused)
                continue
            callback = self._callbacks.get(args[0])
            if callback is not None:
                reply = callback(reply, **{k: v for k, v in options.items() if k not in _NOT_FOR_CALLBACKS})
                if inspect.isawaitable(reply):
                    reply = await reply
            values.append(reply)
        waiting.future.set_result(values)


_NOT_FOR_CALLBACKS = ("keys", NEVER_DECODE, EMPTY_RESPONSE)


async def connect(app: web.Application, settings: Settings) -> None:
    """The app's Redis clients: REDIS and BATCH on the cache's Redis, JOBS on the queues' (the same
    Batcher when they are one Redis, so a write and its jobs share one transaction). The function
    library is loaded into each."""
    app[REDIS] = async_client(settings.redis_url)
    await load(app[REDIS])
    app[BATCH] = Batcher(async_client(settings.redis_url, retries=0))
    app[JOBS] = app[BATCH]
    if settings.queue_redis != settings.redis_url:
        jobs = async_client(settings.queue_redis, retries=0)
        await load(jobs)
        app[JOBS] = Batcher(jobs)


async def disconnect(app: web.Application) -> None:
    await app[REDIS].aclose()
    await app[BATCH].close()
    if app[JOBS] is not app[BATCH]:
        await app[JOBS].close()


def redis_ctx(settings: Settings):
    async def ctx(app: web.Application) -> AsyncIterator[None]:
        await connect(app, settings)
        yield
        await disconnect(app)

    return ctx


def prefixed(prefix: str) -> Callable[[str], str]:
    """The key of a set, list or hash named `<prefix><id>`, as a function of the id."""
    return lambda ident: prefix + ident


def to_hash(doc: dict) -> dict[str, bytes]:
    """Every field JSON-encoded, so integers stay HINCRBY-able and nesting survives."""
    return {k: orjson.dumps(v) for k, v in doc.items()}


def from_hash(raw: dict) -> dict[str, Any]:
    return {(k.decode() if isinstance(k, bytes) else k): orjson.loads(v) for k, v in raw.items()}


def text(value: bytes | str | None) -> str | None:
    return value.decode() if isinstance(value, bytes) else value
