"""Notifications in Redis: `notification:<id>` hash and `notifications:<userId>` sorted set (the
recipient's notifications, score: createdAt in ms), the index of the same name (core.indexes),
rebuilt from MongoDB per recipient. The hashes expire once persisted and are refilled on a miss.
A notification is live while it is listed for its recipient: a delete removes it from the list
and the hash at once (and remembers it in `gone:notification`).
"""
from __future__ import annotations

import time

from aiohttp import web

from mysocial.core import cache, functions, indexes
from mysocial.core.appkeys import BATCH, MONGO, SETTINGS
from mysocial.core.cache import ms
from mysocial.core.reads import Read
from mysocial.core.redis import to_hash
from mysocial.notifications import store

LIMIT = 100  # newest notifications listed and sent with `insert notification`
SENDER_FIELDS = ("profilePicture", "username", "avatarColor", "uId")

NOTIFICATION = cache.kind("notification", "notification:", lambda app, nid: store.find(app[MONGO], nid))
key = NOTIFICATION.key
LISTED = indexes.listing("notifications:", "notifications", NOTIFICATION.gone,
                         lambda app, user_id: store.entries(app[MONGO], user_id))
index_key = LISTED.key


def index(user_id: str) -> indexes.Index:
    return LISTED.index(user_id)


async def ids(app: web.Application, user_id: str) -> list[str]:
    """The recipient's newest notification ids, newest first."""
    return await LISTED.ids(app, user_id, LIMIT)


async def contains(app: web.Application, user_id: str, notification_id: str) -> bool:
    await indexes.ensure(app, index(user_id))
    [score] = await app[BATCH].run(lambda pipe: pipe.zscore(index_key(user_id), notification_id))
    return score is not None


async def get_many(app: web.Application, notification_ids: list[str]) -> list[dict]:
    return await cache.get_many(app, NOTIFICATION, notification_ids)


def mark_read(pipe, user_id: str, notification_id: str) -> None:
    """1, None (not the recipient's, or deleted), or a Refused."""
    functions.call(pipe, "notification_read", [index_key(user_id), key(notification_id), index(user_id).marker],
                   {"id": notification_id})


def remove(pipe, user_id: str, notification_id: str) -> None:
    """0 when removed, None if it was not listed (deleted already)."""
    cache.remove(pipe, NOTIFICATION, notification_id, time.time() * 1000, index_key(user_id),
                 complete=index_key(user_id))


def present(docs: list[dict], senders: dict[str, dict]) -> list[dict]:
    """The wire form: `userFrom` expanded to the sender's card; senders that are gone are left out."""
    out = []
    for doc in docs:
        sender = senders.get(doc.get("userFrom"))
        if sender is not None:
            out.append({**doc, "userFrom": {f: sender.get(f) for f in SENDER_FIELDS}})
    return out


async def put(app: web.Application, doc: dict) -> bool:
    """Cache a stored notification (unless cached already, or deleted) and list it for its
    recipient; False when it was deleted meanwhile."""
    [outcome] = await app[BATCH].run(lambda pipe: cache.fill_call(
        pipe, NOTIFICATION, doc["_id"], to_hash(doc), app[SETTINGS].cache_ttl, function="notification_put",
        extra_keys=(index_key(doc["userTo"]),), score=ms(doc["createdAt"])))
    return outcome != b"gone"


def state(notification_id: str) -> Read:
    """The current cached state for the persist job (None when deleted): a hash left behind by a
    refill racing a delete is not listed for its recipient, so it counts as deleted too."""
    def queue(pipe) -> None:
        pipe.hgetall(key(notification_id))

    async def finish(app: web.Application, replies: list) -> dict | None:
        if not replies[0]:
            return None
        from mysocial.core.redis import from_hash

        doc = from_hash(replies[0])
        recipient = doc.get("userTo", "")
        [listed, complete] = await app[BATCH].run(lambda pipe: (pipe.zscore(index_key(recipient), notification_id),
                                                               pipe.exists(index(recipient).marker)))
        return None if listed is None and complete else doc

    return Read(queue, 1, finish)
