"""The write path: cache entry, pending ledger and persist job in one Redis transaction.

Every change to a persisted document is recorded in the ledger (`pending`:
member `<kind>:<id>` -> version; `pending:since`: when it first became
pending). Versions come from a Lua script: the Redis server's clock in
microseconds, forced to grow, so they are monotonic across API instances and
survive a Redis flush. A worker persists the *current* cached state with the
ledger version it read before loading that state, guarded in MongoDB by that
version, and clears the ledger only if no newer write came in meanwhile
(`clear`). Cache keys of a pending document have no TTL; once persisted they
get `cache_ttl`.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Awaitable, Callable, Iterable, Sequence

import redis.asyncio as aredis
from aiohttp import web
from redis.commands.core import AsyncScript

import queues
from mysocial.core.errors import ApiError
from mysocial.core.reads import Read, finish_all
from mysocial.core.redis import Batcher, run_script

PENDING = "pending"
PENDING_SINCE = "pending:since"
PENDING_DELETES = "pending:deleted"
VERSION = "pending:clock"

MARK_LUA = """
for i = 5, #KEYS do redis.call('PERSIST', KEYS[i]) end
local t = redis.call('TIME')
local v = tonumber(t[1]) * 1000000 + tonumber(t[2])
local last = tonumber(redis.call('GET', KEYS[3]) or '0')
if v <= last then v = last + 1 end
redis.call('SET', KEYS[3], v)
local now_ms = math.floor(v / 1000)
for i = 1, #ARGV, 2 do
  redis.call('HSET', KEYS[1], ARGV[i], v)
  redis.call('ZADD', KEYS[2], 'NX', now_ms, ARGV[i])
  if ARGV[i + 1] == '1' then redis.call('SADD', KEYS[4], ARGV[i]) else redis.call('SREM', KEYS[4], ARGV[i]) end
end
return v
"""

CLEAR_LUA = """
if redis.call('HGET', KEYS[1], ARGV[1]) ~= ARGV[2] then return 0 end
redis.call('HDEL', KEYS[1], ARGV[1])
redis.call('ZREM', KEYS[2], ARGV[1])
redis.call('SREM', KEYS[3], ARGV[1])
local ttl = tonumber(ARGV[3])
for i = 4, #KEYS do
  if ttl > 0 then redis.call('EXPIRE', KEYS[i], ttl) end
end
return 1
"""

_mark = AsyncScript(aredis.Redis(), MARK_LUA)  # the client only lends its encoder; calls pass the pipeline


@dataclass(frozen=True)
class Change:
    """One document whose new state must reach MongoDB; `keys` are its cache entries.

    `deleted` says the write removes the document: only then does the worker
    store a tombstone. A document missing from the cache is never taken for a
    delete (a write refused because its entry had been evicted marks the ledger
    too, and must not erase the stored copy).
    """

    kind: str
    id: str
    keys: tuple[str, ...] = ()
    deleted: bool = False

    @property
    def member(self) -> str:
        return f"{self.kind}:{self.id}"


Apply = Callable[[aredis.client.Pipeline], None]


async def commit(
    redis: Batcher,
    apply: Apply | None,
    changes: Iterable[Change],
    *,
    enqueue: bool = True,
    extra: Apply | None = None,
    reads: Sequence[Read] = (),
    app: web.Application | None = None,
) -> list:
    """Write the cache (`apply`), mark the ledger, add the persist job — all in one MULTI/EXEC.

    `extra` adds further jobs (e-mails, notifications) to the same transaction.
    `reads` (with `app`) ride along after the write and see its result, which
    saves the round trip a read after the commit would cost.
    Returns the results of the commands `apply` added, in order, then the reads' values.
    """
    changes = list(changes)
    sizes: list[int] = []

    def queue(pipe) -> None:
        start = len(pipe.command_stack)
        if apply is not None:
            apply(pipe)
        sizes.append(len(pipe.command_stack) - start)
        if changes:
            keys = [key for change in changes for key in change.keys]  # PERSISTed by the script
            flags = [v for c in changes for v in (c.member, "1" if c.deleted else "0")]
            run_script(pipe, _mark, [PENDING, PENDING_SINCE, VERSION, PENDING_DELETES, *keys], flags)
            if enqueue:
                queues.add_persists(pipe, [(change.kind, change.id) for change in changes])
        if extra is not None:
            extra(pipe)
        sizes.append(len(pipe.command_stack) - start)
        for read in reads:
            read.queue(pipe)

    results = await redis.transaction(queue)
    applied, first_read = sizes
    if not reads:
        return results[:applied]
    return results[:applied] + await finish_all(app, reads, results[first_read:])


NOT_READY = -1


async def commit_ready(
    redis: Batcher,
    prepare: Callable[[], Awaitable[None]],
    apply: Apply,
    changes: Iterable[Change],
    *,
    extra: Apply | None = None,
    attempts: int = 3,
) -> list:
    """`commit` for a write whose first command is a Lua script that answers NOT_READY (first
    element, for a list) when a cache entry it must change in place (a user hash for HINCRBY,
    an index marker) is missing: `prepare()` fills the cache, then the commit is retried.
    A refused attempt changed no cache entry; its persist jobs store unchanged state.
    """
    changes = list(changes)
    for _ in range(attempts):
        await prepare()
        results = await commit(redis, apply, changes, extra=extra)
        first = results[0] if results else None
        code = first[0] if isinstance(first, list) and first else first
        if code != NOT_READY:
            return results
    raise ApiError("Service busy, please try again", 503)
