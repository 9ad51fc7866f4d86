"""MongoDB: PyMongo async in the API, PyMongo sync in workers.

Without MONGO_URL the store is mongomock, held once per process so that the
API and the in-process workers of `mysocial dev` and the tests share it. The
API reaches it through a thin async facade that runs each call in a thread,
so the same `await coll.find_one(...)` code runs against both.
"""
from __future__ import annotations

import asyncio
import threading
from datetime import datetime, timezone
from typing import Any, AsyncIterator

from aiohttp import web
from bson import ObjectId
from pymongo import MongoClient
from pymongo.errors import DuplicateKeyError
from pymongo.asynchronous.mongo_client import AsyncMongoClient

from mysocial.config import Settings

from mysocial.core.appkeys import MONGO

_memory_lock = threading.Lock()
_memory_client = None


def memory_client():
    global _memory_client
    with _memory_lock:
        if _memory_client is None:
            import mongomock

            _memory_client = mongomock.MongoClient(tz_aware=True)
        return _memory_client


def sync_db(settings: Settings):
    if settings.memory_mongo:
        return memory_client()[settings.mongo_db]
    if settings.mongo_url.startswith("mongomock://"):
        from mysocial.core.mongoshare import RemoteDatabase

        return RemoteDatabase(settings.mongo_url, settings.mongo_db)
    return _sync_clients(settings.mongo_url)[settings.mongo_db]


_sync_cache: dict[str, MongoClient] = {}


def _sync_clients(url: str) -> MongoClient:
    with _memory_lock:
        if url not in _sync_cache:
            _sync_cache[url] = MongoClient(url, tz_aware=True)
        return _sync_cache[url]


class _ThreadCursor:
    def __init__(self, make):
        self._make = make
        self._ops: list[tuple[str, tuple, dict]] = []

    def _chain(self, name, *args, **kwargs) -> "_ThreadCursor":
        self._ops.append((name, args, kwargs))
        return self

    def sort(self, *a, **k):
        return self._chain("sort", *a, **k)

    def skip(self, *a, **k):
        return self._chain("skip", *a, **k)

    def limit(self, *a, **k):
        return self._chain("limit", *a, **k)

    def _run(self, length):
        cursor = self._make()
        for name, args, kwargs in self._ops:
            cursor = getattr(cursor, name)(*args, **kwargs)
        return list(cursor) if length is None else [doc for _, doc in zip(range(length), cursor)]

    async def to_list(self, length: int | None = None) -> list[dict]:
        return await asyncio.to_thread(self._run, length)


class _ThreadCollection:
    def __init__(self, coll):
        self._coll = coll

    def find(self, *args, **kwargs) -> _ThreadCursor:
        return _ThreadCursor(lambda: self._coll.find(*args, **kwargs))

    def __getattr__(self, name: str):
        method = getattr(self._coll, name)

        async def call(*args, **kwargs):
            return await asyncio.to_thread(method, *args, **kwargs)

        return call


class _ThreadDatabase:
    def __init__(self, db):
        self._db = db

    def __getitem__(self, name: str) -> _ThreadCollection:
        return _ThreadCollection(self._db[name])

    __getattr__ = __getitem__


def async_db(settings: Settings) -> Any:
    if settings.memory_mongo or settings.mongo_url.startswith("mongomock://"):
        return _ThreadDatabase(sync_db(settings)), None
    client = AsyncMongoClient(settings.mongo_url, tz_aware=True)
    return client[settings.mongo_db], client


def mongo_ctx(settings: Settings):
    async def ctx(app: web.Application) -> AsyncIterator[None]:
        db, client = async_db(settings)
        app[MONGO] = db
        yield
        if client is not None:
            await client.close()

    return ctx


def live(query: dict) -> dict:
    """Filter out tombstones left by version-guarded deletes."""
    return {**query, "_deleted": {"$ne": True}}


def oid(value: str) -> ObjectId:
    return ObjectId(value)


def is_oid(value: str) -> bool:
    return isinstance(value, str) and ObjectId.is_valid(value) and len(value) == 24


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


def versioned_upsert(coll, query: dict, doc: dict | None, version: int) -> bool:
    """Store `doc` (or a tombstone when None) unless a newer version is already stored.

    Returns False when a version >= `version` was there: running a job twice, or
    an older job after a newer one, leaves the newest document in place.
    """
    guard = {**query, "$or": [{"_v": {"$lt": version}}, {"_v": {"$exists": False}}]}
    try:
        if doc is None:
            coll.replace_one(guard, {**query, "_v": version, "_deleted": True}, upsert=True)
        else:
            body = {k: v for k, v in doc.items() if k != "_id"}
            coll.replace_one(guard, {**query, **body, "_v": version}, upsert=True)
        return True
    except DuplicateKeyError:
        return False


def now_iso() -> str:
    return _plain(datetime.now(timezone.utc))




def edge_id(a: str, b: str) -> str:
    """The document id of a directed edge between two users (a follow, a block): `<a>-<b>`."""
    return f"{a}-{b}"


def edge_ends(edge: str) -> tuple[str, str]:
    a, _, b = edge.partition("-")
    return a, b


def save_edge(coll, fields: tuple[str, str], edge: str, doc: dict | None, version: int) -> bool:
    """Version-guarded upsert of an edge keyed by its two user ids (unique index on `fields`)."""
    a, b = edge_ends(edge)
    query = {fields[0]: oid(a), fields[1]: oid(b)}
    stored = to_mongo(doc, ids=fields) if doc else None
    return versioned_upsert(coll, query, stored, version)
