"""The `reactions` collection: one document per (post, user)."""
from __future__ import annotations

from pymongo import IndexModel

from mysocial.core.mongo import entries_of, find_live, oid, doc_upsert, Upsert

COLLECTION = "reactions"
IDS = ("_id", "postId", "userId", "userTo")
INDEXES = {COLLECTION: [IndexModel("postId"), IndexModel("username")]}


async def find(db, reaction_id: str) -> dict | None:
    return await find_live(db[COLLECTION], reaction_id)


async def entries(db, **query) -> list[tuple[str, float]]:
    """(id, createdAt ms) of the reactions matching `query` (ids as strings): rebuilds an index."""
    return await entries_of(db[COLLECTION], {k: oid(v) if k in IDS else v for k, v in query.items()})


def upsert(db, reaction_id: str, doc: dict | None, version: int) -> Upsert:
    return doc_upsert(db[COLLECTION], reaction_id, doc, version, IDS)
