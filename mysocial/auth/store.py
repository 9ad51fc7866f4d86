"""The `auth` collection: credentials, kept apart from the public user document."""
from __future__ import annotations

from pymongo import IndexModel

from mysocial.core.mongo import from_mongo, is_oid, live, oid, to_mongo, versioned_upsert

COLLECTION = "auth"
INDEXES = {COLLECTION: [IndexModel("email"), IndexModel("username")]}


async def find(db, auth_id: str) -> dict | None:
    if not is_oid(auth_id):
        return None
    return from_mongo(await db[COLLECTION].find_one(live({"_id": oid(auth_id)})))


async def find_by_username(db, username: str) -> dict | None:
    return from_mongo(await db[COLLECTION].find_one(live({"username": username.capitalize()})))


async def find_by_email(db, email: str) -> dict | None:
    return from_mongo(await db[COLLECTION].find_one(live({"email": email.lower()})))


def save(db, auth_id: str, doc: dict | None, version: int) -> bool:
    stored = to_mongo(doc, ids=("_id", "userId")) if doc else None
    return versioned_upsert(db[COLLECTION], {"_id": oid(auth_id)}, stored, version)
