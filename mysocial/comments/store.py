"""The `comments` collection."""
from __future__ import annotations

from mysocial.core.index import ms
from pymongo import IndexModel

from mysocial.core.mongo import from_mongo, is_oid, live, oid, to_mongo, versioned_upsert

COLLECTION = "comments"
IDS = ("_id", "postId", "userId", "userTo")
INDEXES = {COLLECTION: [IndexModel([("postId", 1), ("createdAt", -1)])]}


async def find(db, comment_id: str) -> dict | None:
    if not is_oid(comment_id):
        return None
    return from_mongo(await db[COLLECTION].find_one(live({"_id": oid(comment_id)})))


async def entries(db, post_id: str) -> list[tuple[str, float]]:
    """(id, createdAt ms) of a post's comments: rebuilds its index."""
    docs = await db[COLLECTION].find(live({"postId": oid(post_id)}), {"_id": 1, "createdAt": 1}).to_list(None)
    return [(str(d["_id"]), ms(d["createdAt"])) for d in docs]


def save(db, comment_id: str, doc: dict | None, version: int) -> bool:
    stored = to_mongo(doc, ids=IDS) if doc else None
    return versioned_upsert(db[COLLECTION], {"_id": oid(comment_id)}, stored, version)
