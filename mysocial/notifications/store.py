"""The `notifications` collection."""
from __future__ import annotations

from pymongo import IndexModel

from mysocial.core.mongo import entries_of, find_live, oid, doc_upsert, Upsert

COLLECTION = "notifications"
IDS = ("_id", "userTo", "userFrom", "entityId", "createdItemId")
INDEXES = {COLLECTION: [IndexModel([("userTo", 1), ("createdAt", -1)])]}


async def find(db, notification_id: str) -> dict | None:
    return await find_live(db[COLLECTION], notification_id)


async def entries(db, user_id: str) -> list[tuple[str, float]]:
    """(notificationId, createdAt ms) of a recipient: rebuilds the Redis list after a cache loss."""
    return await entries_of(db[COLLECTION], {"userTo": oid(user_id)})


def upsert(db, notification_id: str, doc: dict | None, version: int) -> Upsert:
    return doc_upsert(db[COLLECTION], notification_id, doc, version, IDS)
