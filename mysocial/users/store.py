"""The `users` collection: public profile documents."""
from __future__ import annotations

import re
from typing import AsyncIterator

from pymongo import DESCENDING, IndexModel

from mysocial.core import mongo
from mysocial.core.mongo import SCAN_BATCH, find_live, from_mongo, live, oid, doc_upsert, Upsert

COLLECTION = "users"
INDEXES = {COLLECTION: [IndexModel("authId"), IndexModel("username"), IndexModel([("createdAt", DESCENDING)])]}


async def find(db, user_id: str) -> dict | None:
    return await find_live(db[COLLECTION], user_id)


async def index_rows(db) -> AsyncIterator[tuple[str, float, str]]:
    """(userId, sign-up ms, username) of every user, streamed: rebuilds the Redis indexes."""
    async for d in db[COLLECTION].find(live({}), {"_id": 1, "username": 1, "createdAt": 1}).batch_size(SCAN_BATCH):
        yield str(d["_id"]), d["createdAt"].timestamp() * 1000 if d.get("createdAt") else 0, d["username"]


async def page(db, skip: int, size: int, exclude: str) -> tuple[list[str], int]:
    """What the users index answers, from MongoDB (while Redis rebuilds it)."""
    query = live({"_id": {"$ne": oid(exclude)}})
    docs = await db[COLLECTION].find(query, {"_id": 1}).sort("createdAt", -1).skip(skip).limit(size).to_list(size)
    return [str(d["_id"]) for d in docs], await mongo.count(db[COLLECTION], query)


async def some(db, count: int) -> list[str]:
    docs = await db[COLLECTION].find(live({}), {"_id": 1}).sort("createdAt", -1).limit(count).to_list(count)
    return [str(d["_id"]) for d in docs]


async def search(db, query: str, limit: int) -> list[dict]:
    pattern = {"$regex": re.escape(query), "$options": "i"}
    docs = await db[COLLECTION].find(live({"username": pattern})).limit(limit).to_list(limit)
    return [from_mongo(d) for d in docs]


def upsert(db, user_id: str, doc: dict | None, version: int) -> Upsert:
    return doc_upsert(db[COLLECTION], user_id, doc, version, ("_id", "authId"))
