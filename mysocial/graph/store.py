"""The social graph's collections. `follows`: one document per follow {followerId, followeeId,
createdAt}; `blocks`: one per block {blockerId, blockedId}. Each is unique on its pair (the
version guard relies on it), and an ended edge leaves a version-guarded tombstone. (The user
documents' counters and block lists are kept in step by the user persist job.)"""
from __future__ import annotations

from typing import AsyncIterator

from pymongo import ASCENDING, IndexModel

from mysocial.core.mongo import SCAN_BATCH, live, oid, edge_upsert, Upsert

FOLLOWS = "follows"
BLOCKS = "blocks"
FOLLOW_FIELDS = ("followerId", "followeeId")
BLOCK_FIELDS = ("blockerId", "blockedId")
INDEXES = {
    FOLLOWS: [IndexModel([("followerId", ASCENDING), ("followeeId", ASCENDING)], unique=True), IndexModel("followeeId")],
    BLOCKS: [IndexModel([("blockerId", ASCENDING), ("blockedId", ASCENDING)], unique=True)],
}


def _ms(row: dict) -> float:
    return row["createdAt"].timestamp() * 1000 if row.get("createdAt") else 0


async def edges_of(db, user_id: str) -> tuple[list[tuple[str, float]], list[tuple[str, float]]]:
    """([(followee, ms)] whom `user_id` follows, [(follower, ms)] who follow `user_id`)."""
    uid = oid(user_id)
    rows = await db[FOLLOWS].find(live({"$or": [{"followerId": uid}, {"followeeId": uid}]}),
                                  {"followerId": 1, "followeeId": 1, "createdAt": 1}).to_list(None)
    following = [(str(r["followeeId"]), _ms(r)) for r in rows if r["followerId"] == uid]
    followers = [(str(r["followerId"]), _ms(r)) for r in rows if r["followerId"] != uid]
    return following, followers


async def block_pairs(db) -> AsyncIterator[tuple[str, str]]:
    """Every live (blocker, blocked) pair, streamed: rebuilds the block sets."""
    async for row in db[BLOCKS].find(live({}), {"blockerId": 1, "blockedId": 1}).batch_size(SCAN_BATCH):
        yield str(row["blockerId"]), str(row["blockedId"])


def upsert_follow(db, edge: str, doc: dict | None, version: int) -> Upsert:
    return edge_upsert(db[FOLLOWS], FOLLOW_FIELDS, edge, doc, version)


def upsert_block(db, edge: str, doc: dict | None, version: int) -> Upsert:
    return edge_upsert(db[BLOCKS], BLOCK_FIELDS, edge, doc, version)
