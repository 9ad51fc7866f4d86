"""The `images` collection: a user's profile pictures and background images."""
from __future__ import annotations

from mysocial.core.index import ms
from pymongo import IndexModel

from mysocial.core.mongo import from_mongo, is_oid, live, oid, to_mongo, versioned_upsert

COLLECTION = "images"
INDEXES = {COLLECTION: [IndexModel([("userId", 1), ("createdAt", -1)])]}


async def find(db, image_id: str) -> dict | None:
    if not is_oid(image_id):
        return None
    return from_mongo(await db[COLLECTION].find_one(live({"_id": oid(image_id)})))


async def entries(db, user_id: str) -> list[tuple[str, float]]:
    docs = await db[COLLECTION].find(live({"userId": oid(user_id)}), {"_id": 1, "createdAt": 1}).to_list(None)
    return [(str(d["_id"]), ms(d["createdAt"])) for d in docs]


def save(db, image_id: str, doc: dict | None, version: int) -> bool:
    stored = to_mongo(doc, ids=("_id", "userId")) if doc else None
    return versioned_upsert(db[COLLECTION], {"_id": oid(image_id)}, stored, version)
