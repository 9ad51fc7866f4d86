"""The `follows` collection: one document per follow edge {followerId, followeeId, createdAt},
unique on (followerId, followeeId); an unfollow leaves a version-guarded tombstone."""
from __future__ import annotations

from pymongo import ASCENDING, IndexModel

from mysocial.core.mongo import live, oid, save_edge

COLLECTION = "follows"
FIELDS = ("followerId", "followeeId")
INDEXES = {COLLECTION: [IndexModel([("followerId", ASCENDING), ("followeeId", ASCENDING)], unique=True),
                        IndexModel("followeeId")]}


async def edges_of(db, user_id: str) -> tuple[dict[str, float], dict[str, float]]:
    """({followee: ms} whom `user_id` follows, {follower: ms} who follow `user_id`)."""
    uid = oid(user_id)
    rows = await db[COLLECTION].find(
        live({"$or": [{"followerId": uid}, {"followeeId": uid}]}), {"followerId": 1, "followeeId": 1, "createdAt": 1}
    ).to_list(None)
    following, followers = {}, {}
    for row in rows:
        ms = row["createdAt"].timestamp() * 1000 if row.get("createdAt") else 0
        if row["followerId"] == uid:
            following[str(row["followeeId"])] = ms
        else:
            followers[str(row["followerId"])] = ms
    return following, followers


def save(db, edge: str, doc: dict | None, version: int) -> bool:
    return save_edge(db[COLLECTION], FIELDS, edge, doc, version)
