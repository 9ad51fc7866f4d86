"""Cache-first reads: a Redis hash per document, filled from MongoDB on a miss.

A fill never overwrites an entry that exists (a pending write may have put it
there), never brings back a document whose delete is pending or recent (in
`pending:deleted`, or in `gone:<kind>`), and gives
the filled entry the cache TTL; pending entries have none.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Awaitable, Callable, Iterable

import redis.asyncio as aredis
from aiohttp import web
from redis.commands.core import AsyncScript

from mysocial.core.appkeys import BATCH, REDIS, SETTINGS
from mysocial.core.metrics import cache_result
from mysocial.core.reads import Read, read_one
from mysocial.core.redis import from_hash, to_hash
from mysocial.core.writepath import PENDING_DELETES

FILL_LUA = """
if redis.call('EXISTS', KEYS[1]) == 1 then return 0 end
if redis.call('SISMEMBER', KEYS[2], ARGV[2]) == 1 or redis.call('ZSCORE', KEYS[3], ARGV[3]) then return -1 end
redis.call('HSET', KEYS[1], unpack(ARGV, 4))
if tonumber(ARGV[1]) > 0 then redis.call('EXPIRE', KEYS[1], ARGV[1]) end
return 1
"""
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
_lender = aredis.Redis()  # scripts only borrow its encoder; every call passes a real client or pipeline
fill_script = AsyncScript(_lender, FILL_LUA)
_hold = AsyncScript(_lender, _HOLD_LUA)
HOLD_MS = 60_000

Loader = Callable[[str], Awaitable[dict | None]]


@dataclass(frozen=True)
class Kind:
    """A persisted document kind: its ledger name and its cache key."""

    name: str
    key: Callable[[str], str]

    def member(self, doc_id: str) -> str:
        return f"{self.name}:{doc_id}"

    @property
    def gone(self) -> str:
        return f"gone:{self.name}"


def pairs(doc: dict) -> list:
    flat: list = []
    for field, value in to_hash(doc).items():
        flat += [field, value]
    return flat


def fill_args(kind: Kind, doc_id: str, doc: dict | None, ttl: int, encoded: dict | None = None) -> tuple[list, list]:
    """`encoded`: the hash fields as Redis returned them, sent back as they are instead of `doc`."""
    flat = [v for pair in encoded.items() for v in pair] if encoded else pairs(doc)
    return [kind.key(doc_id), PENDING_DELETES, kind.gone], [ttl, kind.member(doc_id), doc_id, *flat]


async def read_through(app: web.Application, kind: Kind, doc_id: str, load: Loader) -> dict | None:
    """The cached document, else MongoDB's (filled in unless it was deleted meanwhile)."""
    return await read_one(app, doc(kind, doc_id, load))


def doc(kind: Kind, doc_id: str, load: Loader) -> Read:
    """`read_through` as a `Read`, to share a round trip with other reads."""
    async def finish(app: web.Application, replies: list) -> dict | None:
        cache_result(bool(replies[0]))
        return from_hash(replies[0]) if replies[0] else await _fill(app, kind, doc_id, load)

    return Read(lambda pipe: pipe.hgetall(kind.key(doc_id)), 1, finish)


async def _fill(app: web.Application, kind: Kind, doc_id: str, load: Loader) -> dict | None:
    """The miss path: MongoDB's copy, put in the cache unless deleted or written meanwhile."""
    stored = await load(doc_id)
    if stored is None:
        return None
    r = app[REDIS]
    keys, args = fill_args(kind, doc_id, stored, app[SETTINGS].cache_ttl)
    filled = await fill_script(keys=keys, args=args, client=r)
    if filled == -1:
        return None
    if filled == 0:
        raw = await r.hgetall(kind.key(doc_id))
        return from_hash(raw) if raw else None
    return stored


async def read_many(app: web.Application, kind: Kind, ids: Iterable[str], load: Loader) -> list[dict]:
    """Documents for `ids`, in order, in one round trip; misses read through, deleted ones dropped."""
    ids = list(ids)
    if not ids:
        return []

    def queue(pipe) -> None:
        for doc_id in ids:
            pipe.hgetall(kind.key(doc_id))

    raws = await app[BATCH].run(queue)
    cache_result(True, sum(1 for raw in raws if raw))
    docs = []
    for doc_id, raw in zip(ids, raws):
        found = from_hash(raw) if raw else await read_through(app, kind, doc_id, load)  # counts the miss
        if found is not None:
            docs.append(found)
    return docs


async def hold(app: web.Application, keys: list[str], ms: int = HOLD_MS) -> list[str]:
    """Keep cached entries about to be changed from expiring before the change commits.

    Existing keys are made to live at least `ms` more (the commit then PERSISTs
    them); returns the keys that are missing, for the caller to fill.
    """
    if not keys:
        return []
    found = await _hold(keys=keys, args=[ms], client=app[REDIS])
    return [keys[int(i) - 1] for i in found]


async def read_for_write(app: web.Application, kind: Kind, doc_id: str, load: Loader) -> dict | None:
    """`read_through` for a document the caller is about to change in place (see `hold`)."""
    await hold(app, [kind.key(doc_id)])
    return await read_through(app, kind, doc_id, load)
