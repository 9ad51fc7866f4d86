"""Documents in Redis: a hash per document, filled from MongoDB on a miss.

The one rule for changing a cached document in place: the change is a library function that
refuses (`REFUSED missing <key>`) when the hash is not there; `core.writepath.commit` then fills
it from MongoDB (`fill_key`) and runs the transaction again. So no change ever lands on a hash
that expired meanwhile (which would leave a partial document), and nothing has to keep an entry
alive while a request works on it.

A fill never overwrites an entry that exists (a pending write may have put it there), never
brings back a document whose delete is pending or recent (`pending:deleted`, `gone:<kind>`), and
gives the filled entry the cache TTL; pending entries have none.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Awaitable, Callable, Iterable

from aiohttp import web

from mysocial.core import functions
from mysocial.core.appkeys import BATCH, SETTINGS
from mysocial.core.metrics import cache_result
from mysocial.core.reads import Read, read_one
from mysocial.core.redis import from_hash, to_hash

PENDING_DELETES = "pending:deleted"
GONE_FOR_MS = 24 * 3600 * 1000

Loader = Callable[[web.Application, str], Awaitable[dict | None]]


@dataclass(frozen=True)
class Kind:
    """A persisted document kind: its ledger name, its key prefix, how MongoDB gives one back, and
    the library function (`finish(<key>)`) to run on a hash once it is filled, if any."""

    name: str
    prefix: str
    load: Loader
    finish: str | None = None

    def key(self, doc_id: str) -> str:
        return self.prefix + doc_id

    def member(self, doc_id: str) -> str:
        return f"{self.name}:{doc_id}"

    @property
    def gone(self) -> str:
        return f"gone:{self.name}"


Filler = Callable[[web.Application, str], Awaitable[bool]]
FILLERS: dict[str, Filler] = {}


def kind(name: str, prefix: str, load: Loader, finish: str | None = None) -> Kind:
    """Declare a kind (once, at import); `fill_key` fills its hashes by their key prefix."""
    made = Kind(name, prefix, load, finish)
    filler(prefix, lambda app, doc_id: _exists(app, made, doc_id))
    return made


def filler(prefix: str, fill: Filler) -> None:
    """How to fill a hash named `<prefix><id>` that is not a plain document (a chat conversation
    comes back with its unread sets): `fill(app, id)` is True if it exists."""
    FILLERS[prefix] = fill


async def _exists(app: web.Application, kind: Kind, doc_id: str) -> bool:
    return await get(app, kind, doc_id) is not None


def ms(iso: str | datetime) -> float:
    value = datetime.fromisoformat(iso) if isinstance(iso, str) else iso
    return value.timestamp() * 1000


# --- reads -----------------------------------------------------------------

def doc(kind: Kind, doc_id: str) -> Read:
    """The cached document, else MongoDB's (filled in unless deleted meanwhile), as a `Read`."""
    async def finish(app: web.Application, replies: list) -> dict | None:
        cache_result(bool(replies[0]))
        return from_hash(replies[0]) if replies[0] else await _fill(app, kind, doc_id)

    return Read(lambda pipe: pipe.hgetall(kind.key(doc_id)), 1, finish)


async def get(app: web.Application, kind: Kind, doc_id: str) -> dict | None:
    return await read_one(app, doc(kind, doc_id))


async def get_many(app: web.Application, kind: Kind, ids: Iterable[str]) -> list[dict]:
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
        found = from_hash(raw) if raw else await get(app, kind, doc_id)  # counts the miss
        if found is not None:
            docs.append(found)
    return docs


def fill_call(pipe, kind: Kind, doc_id: str, fields: dict, ttl: int, function: str = "doc_fill",
              extra_keys: tuple = (), **named) -> None:
    functions.call(pipe, function, [kind.key(doc_id), PENDING_DELETES, kind.gone, *extra_keys],
                   {"member": kind.member(doc_id), "id": doc_id, "ttl": ttl, **named}, *functions.flat(fields))


async def _fill(app: web.Application, kind: Kind, doc_id: str) -> dict | None:
    """The miss path: MongoDB's copy, put in the cache unless deleted or written meanwhile."""
    stored = await kind.load(app, doc_id)
    if stored is None:
        return None
    def queue(pipe) -> None:
        fill_call(pipe, kind, doc_id, to_hash(stored), app[SETTINGS].cache_ttl)
        if kind.finish:
            functions.call(pipe, kind.finish, [kind.key(doc_id)])

    [outcome, *_] = await app[BATCH].run(queue)
    if outcome == b"gone":
        return None
    if outcome == b"cached":
        [raw] = await app[BATCH].run(lambda pipe: pipe.hgetall(kind.key(doc_id)))
        return from_hash(raw) if raw else None
    return stored


async def fill_key(app: web.Application, key: str) -> bool:
    """Fill the document cached under `key` (a `missing` refusal's detail); False when it no
    longer exists (deleted, or never was)."""
    for prefix in sorted(FILLERS, key=len, reverse=True):
        if key.startswith(prefix):
            return await FILLERS[prefix](app, key[len(prefix):])
    raise LookupError(f"no document kind has the key {key}")


# --- writes (inside a write-path transaction; see core.writepath.commit) ----

def patch(pipe, kind: Kind, doc_id: str, fields: dict) -> None:
    """Set `fields` of a cached document (refused while it is not cached)."""
    functions.call(pipe, "doc_patch", [kind.key(doc_id)], None, *functions.flat(to_hash(fields)))


def bump(pipe, kind: Kind, doc_id: str, field: str, by: int) -> None:
    """HINCRBY a counter of a cached document; the result is the new value."""
    functions.call(pipe, "doc_bump", [kind.key(doc_id)], {"field": field, "by": by})


def add(pipe, kind: Kind, doc: dict, score: float, indexes: Iterable[str], parent: str | None = None) -> None:
    """Store a document and list it in `indexes` (with `parent`, a key that must be cached)."""
    doc_id = doc["_id"]
    functions.call(pipe, "doc_add", [kind.key(doc_id), kind.gone, parent or kind.key(doc_id), *indexes],
                   {"id": doc_id, "score": score}, *functions.flat(to_hash(doc)))


def remove(pipe, kind: Kind, doc_id: str, now_ms: float, index: str, others: Iterable[str] = (),
           counter: tuple[str, str] | None = None, complete: str | None = None, unless: str | None = None) -> None:
    """Delete a document listed in `index` (and `others`) and decrement `counter` (key, field) if
    and only if it was there (and its field `unless` is not true): the result is the counter's
    value, 0 without one, None if it was gone already. `complete`: the name of the index that
    must be complete first (core.indexes)."""
    counter_key, field = counter or (kind.key(doc_id), None)
    marker = f"complete:{complete}" if complete else kind.key(doc_id)
    functions.call(pipe, "doc_remove", [kind.key(doc_id), kind.gone, index, counter_key, marker, *others],
                   {"id": doc_id, "now": int(now_ms), "keep_ms": GONE_FOR_MS, "counter": field, "index_name": complete,
                    "unless": unless})
