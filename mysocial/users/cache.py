"""Users in Redis: `user:<id>` hash, `users` sorted set (score: sign-up time in ms),
`users:names` lexicographic set (`<lower username>\\0<id>`) for prefix search.

The two sets are indexes over every user and are never evicted; after a Redis
loss they are rebuilt from MongoDB on first use (`users:synced` marks it done).
"""
from __future__ import annotations

import orjson
from aiohttp import web

from mysocial.core import index
from mysocial.core.appkeys import BATCH, MONGO, REDIS
from mysocial.core.cache import Kind, doc, read_for_write, read_many, read_through
from mysocial.core.metrics import cache_result
from mysocial.core.reads import Read
from mysocial.core.errors import ApiError, NotFound
from mysocial.core.redis import to_hash
from mysocial.core.writepath import Change, commit
from mysocial.users import store

USERS = "users"
NAMES = "users:names"
SYNCED = "users:synced"


def key(user_id: str) -> str:
    return f"user:{user_id}"


def _name(username: str, user_id: str) -> str:
    return f"{username.lower()}\0{user_id}"


USER = Kind("user", key)


async def get(app: web.Application, user_id: str) -> dict | None:
    return await read_through(app, USER, user_id, lambda uid: store.find(app[MONGO], uid))


def read(app: web.Application, user_id: str) -> Read:
    """`get` as a `Read` (mysocial.core.reads)."""
    return doc(USER, user_id, lambda uid: store.find(app[MONGO], uid))


CARD = ("_id", "username", "email", "avatarColor", "profilePicture")


def card(app: web.Application, user_id: str) -> Read:
    """The fields other documents copy from a user (CARD), as a `Read`: a user hash has
    some thirty fields, and a write that only copies these need not decode them all."""
    async def finish(app_: web.Application, replies: list) -> dict | None:
        values = replies[0]
        cache_result(values[0] is not None)
        if values[0] is None:
            user = await get(app_, user_id)
            return user and {name: user.get(name, "") for name in CARD}
        return {name: orjson.loads(value) for name, value in zip(CARD, values) if value is not None}

    return Read(lambda pipe: pipe.hmget(key(user_id), CARD), 1, finish)


async def require(app: web.Application, user_id: str) -> dict:
    """The user, or 404 `User not found`."""
    user = await get(app, user_id)
    if user is None:
        raise NotFound("User not found")
    return user


async def get_for_write(app: web.Application, user_id: str) -> dict | None:
    """My profile, about to be changed in place: it cannot expire before the change commits."""
    return await read_for_write(app, USER, user_id, lambda uid: store.find(app[MONGO], uid))


async def get_many(app: web.Application, user_ids) -> list[dict]:
    return await read_many(app, USER, user_ids, lambda uid: store.find(app[MONGO], uid))


async def add_to_count(app: web.Application, user_id: str, field: str, delta: int, attempts: int = 3) -> None:
    """Add `delta` to a counter of a user whose hash was missing when a write tried to
    (`index.bump` answered None): the hash is read through from MongoDB, then bumped."""
    for _ in range(attempts):
        if await get(app, user_id) is None:
            return
        [value] = await commit(app[BATCH], lambda pipe: index.bump(pipe, key(user_id), field, delta),
                               [Change("user", user_id, (key(user_id),))])
        if value is not None:
            return
    raise ApiError("Service busy, please try again", 503)


def put(pipe, doc: dict, created_ms: float) -> None:
    pipe.hset(key(doc["_id"]), mapping=to_hash(doc))
    pipe.zadd(USERS, {doc["_id"]: created_ms})
    pipe.zadd(NAMES, {_name(doc["username"], doc["_id"]): 0})


def update(pipe, user_id: str, fields: dict) -> None:
    pipe.hset(key(user_id), mapping=to_hash(fields))


async def ensure_indexes(app: web.Application) -> None:
    r = app[REDIS]
    if await r.exists(SYNCED):
        return
    entries = await store.index_entries(app[MONGO])
    async with r.pipeline(transaction=True) as pipe:
        if entries:
            pipe.zadd(USERS, {uid: ms for uid, _, ms in entries})
            pipe.zadd(NAMES, {_name(name, uid): 0 for uid, name, _ in entries})
        pipe.set(SYNCED, 1)
        await pipe.execute()


async def page(app: web.Application, number: int, size: int, exclude: str) -> tuple[list[str], int]:
    """Ids on page `number` (1-based), newest first, leaving out `exclude`; and the total."""
    await ensure_indexes(app)
    r = app[REDIS]
    async with r.pipeline(transaction=False) as pipe:
        pipe.zrevrank(USERS, exclude)
        pipe.zcard(USERS)
        own, total = await pipe.execute()
    skip = (number - 1) * size
    start = skip + 1 if own is not None and own <= skip else skip
    ids = [m.decode() for m in await r.zrevrange(USERS, start, start + size)]
    ids = [i for i in ids if i != exclude][:size]
    return ids, total - (1 if own is not None else 0)


async def random_ids(app: web.Application, count: int) -> list[str]:
    await ensure_indexes(app)
    return [m.decode() for m in await app[REDIS].zrandmember(USERS, count) or []]


async def search_prefix(app: web.Application, query: str, limit: int) -> list[str]:
    await ensure_indexes(app)
    low = query.lower()
    found = await app[REDIS].zrangebylex(NAMES, f"[{low}", f"[{low}\xff", start=0, num=limit)
    return [m.decode().split("\0", 1)[1] for m in found]
