"""The `posts` collection."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone
from typing import AsyncIterator

from pymongo import IndexModel

from mysocial.core import mongo
from mysocial.core.mongo import SCAN_BATCH, find_live, from_mongo, live, oid, doc_upsert, Upsert

COLLECTION = "posts"
INDEXES = {COLLECTION: [IndexModel([("createdAt", -1)]), IndexModel([("userId", 1), ("createdAt", -1)])]}
WITH_IMAGE = {"$or": [{"imgId": {"$nin": ["", None]}}, {"gifUrl": {"$nin": ["", None]}}]}
WITH_VIDEO = {"videoId": {"$nin": ["", None]}}


async def find(db, post_id: str) -> dict | None:
    return await find_live(db[COLLECTION], post_id)


async def index_rows(db) -> AsyncIterator[dict]:
    """What the Redis lists need of every live post, streamed (rebuilds them after a Redis loss)."""
    fields = {"_id": 1, "userId": 1, "privacy": 1, "takenDown": 1, "imgId": 1, "gifUrl": 1, "videoId": 1, "createdAt": 1}
    async for d in db[COLLECTION].find(live({}), fields).batch_size(SCAN_BATCH):
        yield from_mongo(d)


def visible_to(reader: str, hidden: set[str], following: set[str], limited: set[str]) -> dict:
    """The posts `reader` may see, as a query (the rule of the library's post_page)."""
    followed = [oid(u) for u in following - hidden]
    return {"$or": [{"userId": oid(reader)},
                    {"takenDown": {"$ne": True}, "$or": [
                        {"privacy": "Public", "userId": {"$nin": [oid(u) for u in hidden | limited]}},
                        {"privacy": {"$in": ["Public", "Followers"]}, "userId": {"$in": followed}}]}]}


async def page(db, listing: dict, reader: str, hidden: set[str], following: set[str], limited: set[str],
               gone: list[str], size: int) -> tuple[list[tuple[str, float]], dict]:
    """The newest `size` posts of `listing` the reader may see, as (id, createdAt ms), from
    MongoDB (while Redis rebuilds its lists), and the query that selects them all;
    `gone`: posts deleted lately, whose tombstone may not be stored yet."""
    query = live({"$and": [listing, visible_to(reader, hidden, following, limited),
                           {"_id": {"$nin": [oid(g) for g in gone]}}]})
    docs = await db[COLLECTION].find(query, {"_id": 1, "createdAt": 1}).sort([("createdAt", -1), ("_id", -1)]) \
        .limit(size).to_list(size)
    return [(str(d["_id"]), d["createdAt"].timestamp() * 1000) for d in docs], query


async def count(db, query: dict) -> int:
    return await mongo.count(db[COLLECTION], query)


def upsert(db, post_id: str, doc: dict | None, version: int) -> Upsert:
    return doc_upsert(db[COLLECTION], post_id, doc, version, ("_id", "userId"))


EPOCH = datetime(1970, 1, 1, tzinfo=timezone.utc)
Bound = tuple[float, str]  # (createdAt in ms, id): the order of the Redis lists


def _beyond(bound: Bound, older: bool, inclusive: bool = False) -> dict:
    """Posts older (newer) than `bound` in (createdAt, _id) order, as a query."""
    at, post_id = EPOCH + timedelta(milliseconds=round(bound[0])), oid(bound[1])
    op = "$lt" if older else "$gt"
    return {"$or": [{"createdAt": {op: at}}, {"createdAt": at, "_id": {op + ("e" if inclusive else ""): post_id}}]}


async def keyset(db, listing: dict, reader: str, hidden: set[str], following: set[str], limited: set[str],
                 gone: list[str], limit: int, below: Bound | None = None, above: Bound | None = None,
                 to_below: bool = False, ascending: bool = False) -> list[str]:
    """Ids of up to `limit` posts of `listing` the reader may see, strictly between `above` and
    `below` (`to_below`: `below` included), newest first — or, `ascending`, the `limit` just
    above `above`, still answered newest first. A keyset on (createdAt, _id): pages that never
    overlap nor skip, for the pages Redis does not hold."""
    parts = [listing, visible_to(reader, hidden, following, limited), {"_id": {"$nin": [oid(g) for g in gone]}}]
    if below is not None:
        parts.append(_beyond(below, older=True, inclusive=to_below))
    if above is not None:
        parts.append(_beyond(above, older=False))
    order = 1 if ascending else -1
    docs = await db[COLLECTION].find(live({"$and": parts}), {"_id": 1}) \
        .sort([("createdAt", order), ("_id", order)]).limit(limit).to_list(limit)
    ids = [str(d["_id"]) for d in docs]
    return ids[::-1] if ascending else ids
