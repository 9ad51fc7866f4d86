"""The `comments` collection."""
from __future__ import annotations

from pymongo import IndexModel

from mysocial.core.mongo import entries_of, find_live, oid, doc_upsert, Upsert

COLLECTION = "comments"
IDS = ("_id", "postId", "userId", "userTo")
INDEXES = {COLLECTION: [IndexModel([("postId", 1), ("createdAt", -1)])]}


async def find(db, comment_id: str) -> dict | None:
    return await find_live(db[COLLECTION], comment_id)


async def entries(db, post_id: str) -> list[tuple[str, float]]:
    """(id, createdAt ms) of a post's comments: rebuilds its index."""
    return await entries_of(db[COLLECTION], {"postId": oid(post_id)})


def upsert(db, comment_id: str, doc: dict | None, version: int) -> Upsert:
    return doc_upsert(db[COLLECTION], comment_id, doc, version, IDS)
