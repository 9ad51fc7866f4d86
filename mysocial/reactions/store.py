"""The `reactions` collection: one document per (post, user)."""
from __future__ import annotations

from mysocial.core.index import ms
from pymongo import IndexModel

from mysocial.core.mongo import from_mongo, is_oid, live, oid, to_mongo, versioned_upsert

COLLECTION = "reactions"
IDS = ("_id", "postId", "userId", "userTo")
INDEXES = {COLLECTION: [IndexModel("postId"), IndexModel("username")]}


async def find(db, reaction_id: str) -> dict | None:
    if not is_oid(reaction_id):
        return None
    return from_mongo(await db[COLLECTION].find_one(live({"_id": oid(reaction_id)})))


async def entries(db, **query) -> list[tuple[str, float]]:
    """(id, createdAt ms) of the reactions matching `query` (ids as strings): rebuilds an index."""
    query = {k: oid(v) if k in IDS else v for k, v in query.items()}
    docs = await db[COLLECTION].find(live(query), {"_id": 1, "createdAt": 1}).to_list(None)
    return [(str(d["_id"]), ms(d["createdAt"])) for d in docs]


def save(db, reaction_id: str, doc: dict | None, version: int) -> bool:
    stored = to_mongo(doc, ids=IDS) if doc else None
    return versioned_upsert(db[COLLECTION], {"_id": oid(reaction_id)}, stored, version)
