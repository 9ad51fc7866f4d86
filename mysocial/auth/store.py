"""The `auth` collection: credentials, kept apart from the public user document."""
from __future__ import annotations

from pymongo import IndexModel

from mysocial.core.mongo import find_live, from_mongo, live, doc_upsert, Upsert

COLLECTION = "auth"
INDEXES = {COLLECTION: [IndexModel("email"), IndexModel("username")]}


async def find(db, auth_id: str) -> dict | None:
    return await find_live(db[COLLECTION], auth_id)


async def find_by_username(db, username: str) -> dict | None:
    return from_mongo(await db[COLLECTION].find_one(live({"username": username.capitalize()})))


async def find_by_email(db, email: str) -> dict | None:
    return from_mongo(await db[COLLECTION].find_one(live({"email": email.lower()})))


def upsert(db, auth_id: str, doc: dict | None, version: int) -> Upsert:
    return doc_upsert(db[COLLECTION], auth_id, doc, version, ("_id", "userId"))
