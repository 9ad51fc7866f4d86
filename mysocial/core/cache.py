"""Cache-first reads: a Redis hash per document, filled from MongoDB on a miss.

A fill never overwrites an entry that exists (a pending write may have put it
there), and a filled entry gets the cache TTL; pending entries have none.
"""
from __future__ import annotations

from typing import Awaitable, Callable, Iterable

import orjson
import redis.asyncio as aredis
from aiohttp import web
from redis.commands.core import AsyncScript

from mysocial.core.appkeys import REDIS, SETTINGS
from mysocial.core.metrics import cache_result
from mysocial.core.redis import from_hash, to_hash

_FILL_LUA = """
if redis.call('EXISTS', KEYS[1]) == 1 then return 0 end
redis.call('HSET', KEYS[1], unpack(ARGV, 2))
if tonumber(ARGV[1]) > 0 then redis.call('EXPIRE', KEYS[1], ARGV[1]) end
return 1
"""
_fill = AsyncScript(aredis.Redis(), _FILL_LUA)

Loader = Callable[[], Awaitable[dict | None]]


async def fill(app: web.Application, key: str, doc: dict) -> bool:
    flat: list = []
    for field, value in to_hash(doc).items():
        flat += [field, value]
    return bool(await _fill(keys=[key], args=[app[SETTINGS].cache_ttl, *flat], client=app[REDIS]))


async def read_through(app: web.Application, key: str, load: Loader) -> dict | None:
    raw = await app[REDIS].hgetall(key)
    cache_result(bool(raw))
    if raw:
        return from_hash(raw)
    doc = await load()
    if doc is None:
        return None
    if not await fill(app, key, doc):
        raw = await app[REDIS].hgetall(key)
        return from_hash(raw) if raw else doc
    return doc


async def read_many(
    app: web.Application, ids: Iterable[str], key: Callable[[str], str], load: Callable[[str], Awaitable[dict | None]]
) -> list[dict]:
    """Documents for `ids`, in order, from one pipelined round trip; misses are loaded and filled."""
    ids = list(ids)
    if not ids:
        return []
    async with app[REDIS].pipeline(transaction=False) as pipe:
        for doc_id in ids:
            pipe.hgetall(key(doc_id))
        raws = await pipe.execute()
    hits = sum(1 for raw in raws if raw)
    cache_result(True, hits)
    docs = []
    for doc_id, raw in zip(ids, raws):
        if raw:
            docs.append(from_hash(raw))
            continue
        doc = await read_through(app, key(doc_id), lambda d=doc_id: load(d))  # counts the miss
        if doc is not None:
            docs.append(doc)
    return docs


def dumps(value) -> bytes:
    return orjson.dumps(value)


_HOLD_LUA = """
local missing = {}
for i, key in ipairs(KEYS) do
  local ttl = redis.call('PTTL', key)
  if ttl == -2 then
    table.insert(missing, i)
  elseif ttl >= 0 and ttl < tonumber(ARGV[1]) then
    redis.call('PEXPIRE', key, ARGV[1])
  end
end
return missing
"""
_hold = AsyncScript(aredis.Redis(), _HOLD_LUA)
HOLD_MS = 60_000


async def hold(app: web.Application, keys: list[str], ms: int = HOLD_MS) -> list[str]:
    """Keep cached entries about to be changed from expiring before the change commits.

    Existing keys are made to live at least `ms` more (the commit then PERSISTs
    them); returns the keys that are missing, for the caller to fill.
    """
    if not keys:
        return []
    found = await _hold(keys=keys, args=[ms], client=app[REDIS])
    return [keys[int(i) - 1] for i in found]


async def read_for_write(app: web.Application, key: str, load: Loader) -> dict | None:
    """`read_through` for a document the caller is about to change (see `hold`)."""
    await hold(app, [key])
    return await read_through(app, key, load)
