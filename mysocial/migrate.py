"""`mysocial migrate`: every collection's indexes, created idempotently.

Each feature's store declares its `INDEXES`; the API applies them when it
starts, the workers when they start, and `mysocial migrate` on demand (dev,
compose and PM2 run it first). Unique indexes back the version guards of the
edge documents (follows, blocks): see core.mongo.Upsert.
"""
from __future__ import annotations

from pymongo import IndexModel
from pymongo.asynchronous.database import AsyncDatabase

from mysocial.auth import store as auth
from mysocial.chat import store as chat
from mysocial.comments import store as comments
from mysocial.graph import store as graph
from mysocial.images import store as images
from mysocial.moderation import store as moderation
from mysocial.notifications import store as notifications
from mysocial.posts import store as posts
from mysocial.reactions import store as reactions
from mysocial.sessions import store as sessions
from mysocial.users import store as users

STORES = (auth, users, sessions, posts, reactions, comments, images, graph, notifications, chat, moderation)


def indexes() -> dict[str, list[IndexModel]]:
    return {name: models for store in STORES for name, models in store.INDEXES.items()}


async def apply(db: AsyncDatabase) -> list[str]:
    """The names of the indexes there now, collection by collection."""
    made = []
    for name, models in indexes().items():
        made += [f"{name}.{index}" for index in await db[name].create_indexes(models)]
    return made


async def run(settings) -> list[str]:
    """`mysocial migrate`."""
    from mysocial.core.mongo import async_client

    client = async_client(settings)
    try:
        return await apply(client[settings.mongo_db])
    finally:
        await client.close()
