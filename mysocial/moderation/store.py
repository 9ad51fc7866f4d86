"""The `accounts` (a user's role and standing), `reports` and `audit` collections."""
from __future__ import annotations

from typing import AsyncIterator

from pymongo import IndexModel

from mysocial.core.mongo import SCAN_BATCH, entries_of, find_live, from_mongo, live, doc_upsert, Upsert

ACCOUNTS, REPORTS, AUDIT = "accounts", "reports", "audit"
INDEXES = {
    ACCOUNTS: [IndexModel([("state", 1)])],
    REPORTS: [IndexModel([("status", 1), ("createdAt", -1)]), IndexModel([("reporterId", 1), ("targetId", 1)])],
    AUDIT: [IndexModel([("createdAt", -1)])],
}
REPORT_IDS = ("_id", "reporterId", "targetId", "targetUserId", "assignedTo")


async def find_account(db, user_id: str) -> dict | None:
    return await find_live(db[ACCOUNTS], user_id)


async def in_state(db, state: str) -> list[tuple[str, float]]:
    """(user id, since ms) of the accounts in `state` (limited, suspended): rebuilds its set."""
    return await entries_of(db[ACCOUNTS], {"state": state})


async def find_report(db, report_id: str) -> dict | None:
    return await find_live(db[REPORTS], report_id)


async def report_rows(db) -> AsyncIterator[dict]:
    """What the report lists need of every report, streamed."""
    fields = {"_id": 1, "status": 1, "reporterId": 1, "targetType": 1, "targetId": 1, "createdAt": 1}
    async for d in db[REPORTS].find(live({}), fields).batch_size(SCAN_BATCH):
        yield from_mongo(d)


async def find_audit(db, entry_id: str) -> dict | None:
    return await find_live(db[AUDIT], entry_id)


async def audit_entries(db, _owner: str) -> list[tuple[str, float]]:
    return await entries_of(db[AUDIT], {})


def upsert_account(db, user_id: str, doc: dict | None, version: int) -> Upsert:
    return doc_upsert(db[ACCOUNTS], user_id, doc, version)


def upsert_report(db, report_id: str, doc: dict | None, version: int) -> Upsert:
    return doc_upsert(db[REPORTS], report_id, doc, version, REPORT_IDS)


def upsert_audit(db, entry_id: str, doc: dict | None, version: int) -> Upsert:
    return doc_upsert(db[AUDIT], entry_id, doc, version, ("_id", "actorId", "targetId"))
