"""The `blocks` collection: one document per block {blockerId, blockedId}, unique on the pair;
an unblock leaves a version-guarded tombstone. (The user documents' `blocked` / `blockedBy`
lists are kept in step by the user persist job.)"""
from __future__ import annotations

from pymongo import ASCENDING, IndexModel

from mysocial.core.mongo import live, save_edge

COLLECTION = "blocks"
FIELDS = ("blockerId", "blockedId")
_PROJECTION = {"blockerId": 1, "blockedId": 1}
INDEXES = {COLLECTION: [IndexModel([("blockerId", ASCENDING), ("blockedId", ASCENDING)], unique=True)]}


def _pair(row: dict) -> tuple[str, str]:
    return str(row["blockerId"]), str(row["blockedId"])


async def pairs(db) -> list[tuple[str, str]]:
    """Every live (blocker, blocked) pair: rebuilds the Redis sets after a cache loss."""
    return [_pair(row) for row in await db[COLLECTION].find(live({}), _PROJECTION).to_list(None)]


def pairs_sync(db) -> list[tuple[str, str]]:
    return [_pair(row) for row in db[COLLECTION].find(live({}), _PROJECTION)]


def save(db, edge: str, doc: dict | None, version: int) -> bool:
    return save_edge(db[COLLECTION], FIELDS, edge, doc, version)
