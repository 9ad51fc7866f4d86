"""The `images` collection: a user's profile pictures and background images."""
from __future__ import annotations

from pymongo import IndexModel

from mysocial.core.mongo import entries_of, find_live, oid, doc_upsert, Upsert

COLLECTION = "images"
INDEXES = {COLLECTION: [IndexModel([("userId", 1), ("createdAt", -1)])]}


async def find(db, image_id: str) -> dict | None:
    return await find_live(db[COLLECTION], image_id)


async def entries(db, user_id: str) -> list[tuple[str, float]]:
    return await entries_of(db[COLLECTION], {"userId": oid(user_id)})


def upsert(db, image_id: str, doc: dict | None, version: int) -> Upsert:
    return doc_upsert(db[COLLECTION], image_id, doc, version, ("_id", "userId"))
