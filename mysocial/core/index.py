"""Deletable documents in Redis and the time-ordered indexes that list them.

A document is a hash (`kind.key(id)`); a list of documents is a sorted set of
ids scored by creation time in ms (an *index*). Indexes have no TTL; documents
get one once persisted, so a page is ids from an index plus documents read
through to MongoDB on a miss.

Deletes leave the id in the kind's `gone:<kind>` set for a day. A read never
fills an entry for an id that is gone or whose delete is still pending, and a
write never recreates a deleted document (`restore`, `patch`, `bump` and `add`
check first). That closes the window in which a reader that loaded MongoDB
before the tombstone was stored would bring the document back.

An index loaded from MongoDB holds a sentinel member, so an index lost with
Redis is rebuilt on its next read. Counters in a document change only through
`bump`/`remove`, atomically inside the write's transaction.
"""
from __future__ import annotations

from datetime import datetime
from typing import Awaitable, Callable, Iterable

import redis.asyncio as aredis
from aiohttp import web
from redis.commands.core import AsyncScript

from mysocial.core.appkeys import REDIS
from mysocial.core.cache import Kind, fill_args, fill_script, pairs
from mysocial.core.reads import Read, plain, read_one
from mysocial.core.redis import run_script

SENTINEL = "~"
GONE_FOR_MS = 24 * 3600 * 1000

_PATCH_LUA = """
if redis.call('EXISTS', KEYS[1]) == 0 then return 0 end
redis.call('HSET', KEYS[1], unpack(ARGV))
return 1
"""
_BUMP_LUA = """
if redis.call('EXISTS', KEYS[1]) == 0 then return false end
return redis.call('HINCRBY', KEYS[1], ARGV[1], ARGV[2])
"""
_ADD_LUA = """
if ARGV[3] == '1' and redis.call('EXISTS', KEYS[3]) == 0 then return 0 end
redis.call('HSET', KEYS[1], unpack(ARGV, 4))
redis.call('ZREM', KEYS[2], ARGV[1])
for i = 4, #KEYS do redis.call('ZADD', KEYS[i], ARGV[2], ARGV[1]) end
return 1
"""
_REMOVE_LUA = """
if redis.call('ZREM', KEYS[4], ARGV[1]) == 0 then return false end
for i = 5, #KEYS do redis.call('ZREM', KEYS[i], ARGV[1]) end
redis.call('DEL', KEYS[1])
redis.call('ZADD', KEYS[2], ARGV[2], ARGV[1])
redis.call('ZREMRANGEBYSCORE', KEYS[2], '-inf', tonumber(ARGV[2]) - tonumber(ARGV[3]))
if ARGV[4] ~= '' and redis.call('EXISTS', KEYS[3]) == 1 then
  return redis.call('HINCRBY', KEYS[3], ARGV[4], -1)
end
return 0
"""
_LOAD_LUA = """
if redis.call('ZSCORE', KEYS[1], ARGV[1]) then return 0 end
for i = 2, #ARGV, 2 do
  if not redis.call('ZSCORE', KEYS[2], ARGV[i]) then redis.call('ZADD', KEYS[1], 'NX', ARGV[i + 1], ARGV[i]) end
end
redis.call('ZADD', KEYS[1], 0, ARGV[1])
return 1
"""
_lender = aredis.Redis()  # scripts only borrow its encoder; every call passes a real client or pipeline
_patch = AsyncScript(_lender, _PATCH_LUA)
_bump = AsyncScript(_lender, _BUMP_LUA)
_add = AsyncScript(_lender, _ADD_LUA)
_remove = AsyncScript(_lender, _REMOVE_LUA)
_load = AsyncScript(_lender, _LOAD_LUA)

Loader = Callable[[str], Awaitable[dict | None]]
EntriesLoader = Callable[[], Awaitable[list[tuple[str, float]]]]


def ms(iso: str | datetime) -> float:
    value = datetime.fromisoformat(iso) if isinstance(iso, str) else iso
    return value.timestamp() * 1000


# --- reads -----------------------------------------------------------------

def is_loaded(index: str) -> Read:
    """Whether `index` is loaded (has its sentinel), as a `Read`."""
    return plain(lambda pipe: pipe.zscore(index, SENTINEL), 1, lambda replies: replies[0] is not None)


async def ensure_loaded(app: web.Application, kind: Kind, index: str, load: EntriesLoader,
                        loaded: bool | None = None) -> None:
    """Rebuild `index` from MongoDB unless it is already loaded (`loaded`: if the caller read that)."""
    if loaded is None:
        loaded = await read_one(app, is_loaded(index))
    if loaded:
        return
    args: list = [SENTINEL]
    for doc_id, score in await load():
        args += [doc_id, score]
    await _load(keys=[index, kind.gone], args=args, client=app[REDIS])


async def ids(app: web.Application, kind: Kind, index: str, load: EntriesLoader,
              start: int = 0, stop: int = -1) -> list[str]:
    """Ids in `index`, newest first (ranks `start`..`stop`)."""
    await ensure_loaded(app, kind, index, load)
    raw = await app[REDIS].zrevrange(index, start, stop)
    return [m.decode() for m in raw if m != SENTINEL.encode()]


# --- writes (inside a write-path transaction) --------------------------------

def restore(pipe, kind: Kind, doc_id: str, doc: dict | None, encoded: dict | None = None) -> None:
    """Put an evicted document back before changing part of it; never a deleted one.
    (`encoded`: its hash as read, to send back without encoding `doc` again.)"""
    run_script(pipe, fill_script, *fill_args(kind, doc_id, doc, 0, encoded))


def patch(pipe, key: str, fields: dict) -> None:
    """HSET `fields` only if the document is there (see `restore`)."""
    run_script(pipe, _patch, [key], pairs(fields))


def bump(pipe, key: str, field: str, delta: int) -> None:
    """HINCRBY only if the document is there; the result is the new value or None."""
    run_script(pipe, _bump, [key], [field, delta])


def add(pipe, kind: Kind, doc: dict, score: float, indexes: Iterable[str], parent: str | None = None) -> None:
    """Store a document and list it in `indexes`; with `parent`, only if that key exists.
    The result is 1 when added, 0 when the parent was gone."""
    doc_id = doc["_id"]
    keys = [kind.key(doc_id), kind.gone, parent or kind.key(doc_id), *indexes]
    run_script(pipe, _add, keys, [doc_id, score, "1" if parent else "0", *pairs(doc)])


def remove(pipe, kind: Kind, doc_id: str, now_ms: float, index: str, others: Iterable[str] = (),
           counter: tuple[str, str] | None = None) -> None:
    """Delete a document listed in `index` (and `others`), and decrement `counter` (key, field)
    if and only if it was there: the result is None when it was already gone, else the counter."""
    hash_key, field = counter or (kind.key(doc_id), "")
    run_script(pipe, _remove, [kind.key(doc_id), kind.gone, hash_key, index, *others],
                 [doc_id, int(now_ms), GONE_FOR_MS, field])
