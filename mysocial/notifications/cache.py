"""Notifications in Redis: `notification:<id>` hash and `notifications:<userId>` sorted set
(the recipient's notifications, score: createdAt in ms).

The per-user sets have no TTL and are rebuilt from MongoDB when missing
(`notifications:loaded`, see core/indexes.py); the hashes expire once
persisted and are refilled on a miss. A notification is live while it is in
its recipient's set: deleting removes it from the set and the hash at once.
"""
from __future__ import annotations

from datetime import datetime

import redis.asyncio as aredis
from aiohttp import web
from redis.commands.core import AsyncScript

from mysocial.core import indexes
from mysocial.core.appkeys import MONGO, REDIS
from mysocial.core.cache import FILL_LUA, Kind, fill_args, read_many, read_through
from mysocial.core.redis import from_hash, run_script
from mysocial.notifications import store

LOADED = "notifications:loaded"
LIMIT = 100  # newest notifications listed and sent with `insert notification`
SENDER_FIELDS = ("profilePicture", "username", "avatarColor", "uId")

# KEYS: index, hash; ARGV: id. Answers 1, 0 (not the recipient's / deleted) or NOT_READY.
_MARK = AsyncScript(aredis.Redis(), """
if not redis.call('ZSCORE', KEYS[1], ARGV[1]) then return 0 end
if redis.call('EXISTS', KEYS[2]) == 0 then return -1 end
redis.call('HSET', KEYS[2], 'read', 'true')
return 1
""")


def key(notification_id: str) -> str:
    return f"notification:{notification_id}"


def index_key(user_id: str) -> str:
    return f"notifications:{user_id}"


async def ready(app: web.Application, user_id: str) -> None:
    async def load(uid: str) -> indexes.Entries:
        return {index_key(uid): await store.index_of(app[MONGO], uid)}

    await indexes.ensure(app[REDIS], LOADED, [user_id], load)


async def ids(app: web.Application, user_id: str) -> list[str]:
    """The recipient's newest notification ids, newest first."""
    await ready(app, user_id)
    return [m.decode() for m in await app[REDIS].zrevrange(index_key(user_id), 0, LIMIT - 1)]


async def contains(app: web.Application, user_id: str, notification_id: str) -> bool:
    await ready(app, user_id)
    return await app[REDIS].zscore(index_key(user_id), notification_id) is not None


NOTIFICATION = Kind("notification", key)


async def get(app: web.Application, notification_id: str) -> dict | None:
    return await read_through(app, NOTIFICATION, notification_id, lambda nid: store.find(app[MONGO], nid))


async def get_many(app: web.Application, notification_ids: list[str]) -> list[dict]:
    return await read_many(app, NOTIFICATION, notification_ids, lambda nid: store.find(app[MONGO], nid))


def mark_read(pipe, user_id: str, notification_id: str) -> None:
    run_script(pipe, _MARK, [index_key(user_id), key(notification_id)], [notification_id])


def remove(pipe, user_id: str, notification_id: str) -> None:
    pipe.zrem(index_key(user_id), notification_id)
    pipe.delete(key(notification_id))


def present(docs: list[dict], senders: dict[str, dict]) -> list[dict]:
    """The wire form: `userFrom` expanded to the sender's card; senders that are gone are left out."""
    out = []
    for doc in docs:
        sender = senders.get(doc.get("userFrom"))
        if sender is not None:
            out.append({**doc, "userFrom": {f: sender.get(f) for f in SENDER_FIELDS}})
    return out


# Workers (synchronous Redis and MongoDB)


def put(r, doc: dict, ttl: int) -> bool:
    """Cache a stored notification (unless cached already, or deleted) and list it for its
    recipient. False when it was deleted meanwhile."""
    keys, args = fill_args(NOTIFICATION, doc["_id"], doc, ttl)
    if r.eval(FILL_LUA, len(keys), *keys, *args) == -1:
        return False
    r.zadd(index_key(doc["userTo"]), {doc["_id"]: datetime.fromisoformat(doc["createdAt"]).timestamp() * 1000})
    return True


def ready_sync(r, db, user_id: str) -> None:
    indexes.ensure_sync(r, LOADED, user_id, lambda uid: {index_key(uid): store.index_of_sync(db, uid)})


def ids_sync(r, db, user_id: str) -> list[str]:
    ready_sync(r, db, user_id)
    return [m.decode() for m in r.zrevrange(index_key(user_id), 0, LIMIT - 1)]


def get_many_sync(r, db, notification_ids: list[str]) -> list[dict]:
    with r.pipeline(transaction=False) as pipe:
        for nid in notification_ids:
            pipe.hgetall(key(nid))
        raws = pipe.execute()
    docs = [from_hash(raw) if raw else store.find_sync(db, nid) for nid, raw in zip(notification_ids, raws)]
    return [d for d in docs if d is not None]


def load(r, notification_id: str) -> dict | None:
    """The current cached state for the persist job; None when deleted.

    A hash left behind by a refill racing a delete is not in its recipient's list: deleted too.
    """
    raw = r.hgetall(key(notification_id))
    if not raw:
        return None
    doc = from_hash(raw)
    recipient = doc.get("userTo", "")
    if r.zscore(index_key(recipient), notification_id) is None and r.sismember(LOADED, recipient):
        return None
    return doc
