"""The `sessions` collection: one document per signed-in session (a device), ended by a tombstone."""
from __future__ import annotations

from pymongo import IndexModel

from mysocial.core.index import ms
from mysocial.core.mongo import from_mongo, is_oid, live, oid, to_mongo, versioned_upsert

COLLECTION = "sessions"
IDS = ("_id", "userId")
INDEXES = {COLLECTION: [IndexModel([("userId", 1), ("createdAt", -1)])]}


async def find(db, session_id: str) -> dict | None:
    if not is_oid(session_id):
        return None
    return from_mongo(await db[COLLECTION].find_one(live({"_id": oid(session_id)})))


async def entries(db, user_id: str) -> list[tuple[str, float]]:
    """(id, createdAt ms) of a user's live sessions: rebuilds their index."""
    docs = await db[COLLECTION].find(live({"userId": oid(user_id)}), {"_id": 1, "createdAt": 1}).to_list(None)
    return [(str(d["_id"]), ms(d["createdAt"])) for d in docs]


def save(db, session_id: str, doc: dict | None, version: int) -> bool:
    stored = to_mongo(doc, ids=IDS) if doc else None
    return versioned_upsert(db[COLLECTION], {"_id": oid(session_id)}, stored, version)
