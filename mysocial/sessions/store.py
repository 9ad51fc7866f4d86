"""The `sessions` collection: one document per signed-in session (a device), ended by a tombstone."""
from __future__ import annotations

from pymongo import IndexModel

from mysocial.core.mongo import entries_of, find_live, oid, doc_upsert, Upsert

COLLECTION = "sessions"
IDS = ("_id", "userId")
INDEXES = {COLLECTION: [IndexModel([("userId", 1), ("createdAt", -1)])]}


async def find(db, session_id: str) -> dict | None:
    return await find_live(db[COLLECTION], session_id)


async def entries(db, user_id: str) -> list[tuple[str, float]]:
    """(id, createdAt ms) of a user's live sessions: rebuilds their index."""
    return await entries_of(db[COLLECTION], {"userId": oid(user_id)})


def upsert(db, session_id: str, doc: dict | None, version: int) -> Upsert:
    return doc_upsert(db[COLLECTION], session_id, doc, version, IDS)
