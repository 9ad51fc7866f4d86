"""The `posts` collection."""
from __future__ import annotations

from pymongo import IndexModel

from mysocial.core.mongo import from_mongo, is_oid, live, oid, to_mongo, versioned_upsert

COLLECTION = "posts"
INDEXES = {COLLECTION: [IndexModel([("createdAt", -1)]), IndexModel([("userId", 1), ("createdAt", -1)])]}


async def find(db, post_id: str) -> dict | None:
    if not is_oid(post_id):
        return None
    return from_mongo(await db[COLLECTION].find_one(live({"_id": oid(post_id)})))


async def index_entries(db) -> list[dict]:
    """What the Redis lists need of every live post (rebuilds them after a Redis loss)."""
    fields = {"_id": 1, "userId": 1, "privacy": 1, "imgId": 1, "gifUrl": 1, "videoId": 1, "createdAt": 1}
    return [from_mongo(d) for d in await db[COLLECTION].find(live({}), fields).to_list(None)]


def save(db, post_id: str, doc: dict | None, version: int) -> bool:
    stored = to_mongo(doc, ids=("_id", "userId")) if doc else None
    return versioned_upsert(db[COLLECTION], {"_id": oid(post_id)}, stored, version)
