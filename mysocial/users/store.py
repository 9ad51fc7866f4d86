"""The `users` collection: public profile documents."""
from __future__ import annotations

import re

from pymongo import IndexModel

from mysocial.core.mongo import from_mongo, is_oid, live, oid, to_mongo, versioned_upsert

COLLECTION = "users"
INDEXES = {COLLECTION: [IndexModel("authId"), IndexModel("username")]}


async def find(db, user_id: str) -> dict | None:
    if not is_oid(user_id):
        return None
    return from_mongo(await db[COLLECTION].find_one(live({"_id": oid(user_id)})))


async def find_by_auth(db, auth_id: str) -> dict | None:
    return from_mongo(await db[COLLECTION].find_one(live({"authId": oid(auth_id)})))


async def index_entries(db) -> list[tuple[str, str, float]]:
    """(userId, username, createdAt ms) of every user: rebuilds the Redis indexes."""
    cursor = db[COLLECTION].find(live({}), {"_id": 1, "username": 1, "createdAt": 1})
    return [
        (str(d["_id"]), d["username"], d["createdAt"].timestamp() * 1000 if d.get("createdAt") else 0)
        for d in await cursor.to_list(None)
    ]


async def search(db, query: str, limit: int) -> list[dict]:
    pattern = {"$regex": re.escape(query), "$options": "i"}
    docs = await db[COLLECTION].find(live({"username": pattern})).limit(limit).to_list(limit)
    return [from_mongo(d) for d in docs]


def save(db, user_id: str, doc: dict | None, version: int) -> bool:
    stored = to_mongo(doc, ids=("_id", "authId")) if doc else None
    return versioned_upsert(db[COLLECTION], {"_id": oid(user_id)}, stored, version)


def find_sync(db, user_id: str) -> dict | None:
    return from_mongo(db[COLLECTION].find_one(live({"_id": oid(user_id)})))
