"""The `notifications` collection."""
from __future__ import annotations

from pymongo import IndexModel

from mysocial.core.mongo import from_mongo, is_oid, live, oid, to_mongo, versioned_upsert

COLLECTION = "notifications"
IDS = ("_id", "userTo", "userFrom", "entityId", "createdItemId")
INDEXES = {COLLECTION: [IndexModel([("userTo", 1), ("createdAt", -1)])]}


async def find(db, notification_id: str) -> dict | None:
    if not is_oid(notification_id):
        return None
    return from_mongo(await db[COLLECTION].find_one(live({"_id": oid(notification_id)})))


def find_sync(db, notification_id: str) -> dict | None:
    return from_mongo(db[COLLECTION].find_one(live({"_id": oid(notification_id)})))


async def index_of(db, user_id: str) -> dict[str, float]:
    """{notificationId: createdAt ms} of a recipient: rebuilds the Redis list after a cache loss."""
    rows = await db[COLLECTION].find(live({"userTo": oid(user_id)}), {"createdAt": 1}).to_list(None)
    return {str(r["_id"]): r["createdAt"].timestamp() * 1000 for r in rows}


def index_of_sync(db, user_id: str) -> dict[str, float]:
    rows = db[COLLECTION].find(live({"userTo": oid(user_id)}), {"createdAt": 1})
    return {str(r["_id"]): r["createdAt"].timestamp() * 1000 for r in rows}


def save(db, notification_id: str, doc: dict | None, version: int) -> bool:
    stored = to_mongo(doc, ids=IDS) if doc else None
    return versioned_upsert(db[COLLECTION], {"_id": oid(notification_id)}, stored, version)
