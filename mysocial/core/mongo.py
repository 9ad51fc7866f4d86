"""MongoDB: PyMongo's async client, in the API and the workers alike; always a server.

MONGO_URL names it (a real MongoDB, or the wire server `mysocial dev` and the
tests start, see mysocial.mongoserver). Server selection gives up after
`mongo_timeout_ms`, so a request or job meeting an outage fails (and is
retried) instead of hanging.
"""
from __future__ import annotations

import asyncio
import re
import threading
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any, AsyncIterator, Awaitable, Callable

from aiohttp import web
from bson import ObjectId
from pymongo import MongoClient, ReplaceOne
from pymongo.asynchronous.database import AsyncDatabase
from pymongo.database import Database
from pymongo.errors import BulkWriteError, DuplicateKeyError
from pymongo.asynchronous.mongo_client import AsyncMongoClient

from mysocial.config import Settings
from mysocial.core import clock
from mysocial.core.appkeys import MONGO

_lock = threading.Lock()
_sync_clients: dict[tuple[str, int], MongoClient] = {}


def _options(settings: Settings) -> dict:
    return {"tz_aware": True, "serverSelectionTimeoutMS": settings.mongo_timeout_ms}


def sync_db(settings: Settings) -> Database:
    """A synchronous client's database, for tools and tests (the API and the workers use the
    async client); one client per URL per process."""
    key = (settings.mongo_url, settings.mongo_timeout_ms)
    with _lock:
        if key not in _sync_clients:
            _sync_clients[key] = MongoClient(settings.mongo_url, **_options(settings))
        return _sync_clients[key][settings.mongo_db]


def async_client(settings: Settings) -> AsyncMongoClient:
    return AsyncMongoClient(settings.mongo_url, **_options(settings))


def mongo_ctx(settings: Settings, on_start: Callable[[AsyncDatabase], Awaitable[None]] | None = None):
    """The API's database for the app's lifetime; `on_start` runs once it is there (indexes)."""
    async def ctx(app: web.Application) -> AsyncIterator[None]:
        client = async_client(settings)
        app[MONGO] = client[settings.mongo_db]
        if on_start is not None:
            await on_start(app[MONGO])
        yield
        await client.close()

    return ctx


DUPLICATE_KEY = 11000
SCAN_BATCH = 1000  # a streamed scan's documents per round trip: bounded memory, other queries served between


def live(query: dict) -> dict:
    """Filter out tombstones left by version-guarded deletes."""
    return {**query, "_deleted": {"$ne": True}}


def oid(value: str) -> ObjectId:
    return ObjectId(value)


_CANONICAL_ID = re.compile(r"[0-9a-f]{24}")


def is_oid(value: object) -> bool:
    """The one rule for an id from outside: 24 lower-case hex digits, as ids are issued.

    MongoDB reads `6B0F…` as the same ObjectId as `6b0f…`, but Redis keys and access checks
    compare text: an id in any other spelling is refused (400) before it touches a key."""
    return isinstance(value, str) and _CANONICAL_ID.fullmatch(value) is not None


def to_mongo(doc: dict, ids: tuple[str, ...] = ("_id",), dates: tuple[str, ...] = ("createdAt",)) -> dict:
    """Cache form -> stored form: id strings become ObjectIds, ISO strings datetimes."""
    out = dict(doc)
    for name in ids:
        if is_oid(out.get(name)):
            out[name] = ObjectId(out[name])
    for name in dates:
        if isinstance(out.get(name), str):
            out[name] = datetime.fromisoformat(out[name])
    return out


def _plain(value):
    if isinstance(value, ObjectId):
        return str(value)
    if isinstance(value, datetime):
        if value.tzinfo is None:
            value = value.replace(tzinfo=timezone.utc)
        return value.isoformat(timespec="milliseconds").replace("+00:00", "Z")
    if isinstance(value, list):
        return [_plain(v) for v in value]
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    return value


def from_mongo(doc: dict | None) -> dict | None:
    """Stored form -> cache/wire form; bookkeeping fields dropped."""
    if doc is None:
        return None
    return {k: _plain(v) for k, v in doc.items() if k not in ("_v", "_deleted")}


@dataclass(frozen=True)
class Upsert:
    """A persist job's store of one document: `doc` (None: a tombstone) under `query`, unless a
    version >= `version` is already stored. Relies on a unique index over `query`'s fields
    (`_id` always has one)."""

    coll: Any
    query: dict
    doc: dict | None
    version: int

    def guard(self) -> dict:
        return {**self.query, "_v": {"$not": {"$gte": self.version}}}  # older, or none

    def replacement(self) -> dict:
        if self.doc is None:
            return {**self.query, "_v": self.version, "_deleted": True}
        return {**self.query, **{k: v for k, v in self.doc.items() if k != "_id"}, "_v": self.version}


async def upsert_one(upsert: Upsert | None) -> bool:
    """Store one document; False when a newer (or the same) version was there, or nothing to store.

    Running a job twice, or an older job after a newer one, leaves the newest document in place.
    """
    if upsert is None:
        return False
    for _ in range(2):
        try:
            await upsert.coll.replace_one(upsert.guard(), upsert.replacement(), upsert=True)
            return True
        except DuplicateKeyError:
            # Either a newer version is stored, or a concurrent upsert inserted the document
            # between our guard missing and our insert: once more, against what is there now.
            continue
    return False


async def upsert_all(upserts: list[Upsert | None]) -> list[bool]:
    """Store many documents: one unordered `bulk_write` per collection (concurrently), whose
    duplicate-key refusals (a newer version stored, or an insert race) are tried once more
    one by one, as `upsert_one` does. The result of each, in order."""
    results = [False] * len(upserts)
    groups: dict[str, list[int]] = {}
    for n, upsert in enumerate(upserts):
        if upsert is not None:
            groups.setdefault(upsert.coll.full_name, []).append(n)

    async def one_collection(members: list[int]) -> None:
        coll = upserts[members[0]].coll
        ops = [ReplaceOne(upserts[n].guard(), upserts[n].replacement(), upsert=True) for n in members]
        refused: list[int] = []
        try:
            await coll.bulk_write(ops, ordered=False)
        except BulkWriteError as exc:
            errors = exc.details.get("writeErrors", [])
            if any(e.get("code") != DUPLICATE_KEY for e in errors) or exc.details.get("writeConcernErrors"):
                raise
            refused = [e["index"] for e in errors]
        for n in members:
            results[n] = True
        for index in refused:
            results[members[index]] = await upsert_one(upserts[members[index]])

    await asyncio.gather(*(one_collection(members) for members in groups.values()))
    return results


async def find_live(coll, doc_id: str) -> dict | None:
    """The live document `doc_id` in wire form; None for a malformed id, a missing or deleted one."""
    if not is_oid(doc_id):
        return None
    return from_mongo(await coll.find_one(live({"_id": oid(doc_id)})))


async def entries_of(coll, query: dict) -> list[tuple[str, float]]:
    """(id, createdAt ms) of the live documents matching `query`: what an index is rebuilt from."""
    docs = await coll.find(live(query), {"_id": 1, "createdAt": 1}).to_list(None)
    return [(str(d["_id"]), d["createdAt"].timestamp() * 1000) for d in docs]


def doc_upsert(coll, doc_id: str, doc: dict | None, version: int, ids: tuple[str, ...] = ("_id",)) -> Upsert:
    """A persist job's store: `doc` (None: a tombstone) as `doc_id`, version-guarded."""
    return Upsert(coll, {"_id": oid(doc_id)}, to_mongo(doc, ids=ids) if doc else None, version)


async def count(coll, query: dict) -> int:
    """How many documents match `query`, with the `count` command: count_documents is an
    aggregation, which the wire server cannot run over a large collection (its materialization
    budget), and MongoDB answers both from the same index."""
    return int((await coll.database.command("count", coll.name, query=query))["n"])


def now_iso() -> str:
    return clock.utc_now()


def iso(ms: float) -> str:
    """A time in epoch milliseconds as the documents' ISO text."""
    return _plain(datetime.fromtimestamp(ms / 1000, timezone.utc))




def edge_id(a: str, b: str) -> str:
    """The document id of a directed edge between two users (a follow, a block): `<a>-<b>`."""
    return f"{a}-{b}"


def edge_ends(edge: str) -> tuple[str, str]:
    a, _, b = edge.partition("-")
    return a, b


def edge_upsert(coll, fields: tuple[str, str], edge: str, doc: dict | None, version: int) -> Upsert:
    """Version-guarded upsert of an edge keyed by its two user ids (unique index on `fields`)."""
    a, b = edge_ends(edge)
    return Upsert(coll, {fields[0]: oid(a), fields[1]: oid(b)}, to_mongo(doc, ids=fields) if doc else None, version)
