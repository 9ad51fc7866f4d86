"""Users in Redis: `user:<id>` hash, `users` sorted set (score: sign-up time in ms),
`users:names` lexicographic set (`<lower username>\\0<id>`) for prefix search.

The two sets are the index `users` (core.indexes): complete while `complete:users` exists;
after a Redis loss one instance rebuilds it in the background and readers answer from MongoDB
meanwhile. A user hash's counters and block lists are changed only by this module's functions
and the library's users.lua helpers (the social graph and posts call them).
"""
from __future__ import annotations

import orjson
from aiohttp import web

from mysocial.core import cache, functions, indexes
from mysocial.core.appkeys import BATCH, MONGO
from mysocial.core.errors import NotFound
from mysocial.core.metrics import cache_result
from mysocial.core.reads import Read, read_one
from mysocial.core.redis import to_hash
from mysocial.users import store

USERS = "users"
NAMES = "users:names"

USER = cache.kind("user", "user:", lambda app, uid: store.find(app[MONGO], uid))
key = USER.key


def _name(username: str, user_id: str) -> str:
    return f"{username.lower()}\0{user_id}"


async def _chunks(app: web.Application):
    async for rows in indexes.chunked(store.index_rows(app[MONGO])):
        entries = [list(row) for row in rows]
        yield lambda pipe, entries=entries: functions.call(pipe, "users_merge", [USERS, NAMES], {"entries": entries})


INDEX = indexes.Index("users", "users", _chunks, lambda app: app[MONGO][store.COLLECTION].estimated_document_count())
indexes.family("users", lambda rest: INDEX)


async def get(app: web.Application, user_id: str) -> dict | None:
    return await cache.get(app, USER, user_id)


def read(app: web.Application, user_id: str) -> Read:
    """`get` as a `Read` (mysocial.core.reads)."""
    return cache.doc(USER, user_id)


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


async def get_many(app: web.Application, user_ids) -> list[dict]:
    return await cache.get_many(app, USER, user_ids)


def put(pipe, doc: dict, created_ms: float) -> None:
    """A new user (sign-up), listed in the users indexes."""
    pipe.hset(key(doc["_id"]), mapping=to_hash(doc))
    pipe.zadd(USERS, {doc["_id"]: created_ms})
    pipe.zadd(NAMES, {_name(doc["username"], doc["_id"]): 0})


def update(pipe, user_id: str, fields: dict) -> None:
    """Change profile fields of a cached user (refused while not cached: core.cache)."""
    cache.patch(pipe, USER, user_id, fields)


def count(pipe, user_id: str, field: str, by: int) -> None:
    """Move a counter of the user (`postsCount`); the result is its new value."""
    cache.bump(pipe, USER, user_id, field, by)


def counter(user_id: str, field: str) -> tuple[str, str]:
    """A counter of the user, for a library function that moves it with what it changes."""
    return key(user_id), field


async def _complete(app: web.Application) -> bool:
    return indexes.in_background(app, INDEX, await read_one(app, indexes.is_complete(INDEX)))


async def page(app: web.Application, number: int, size: int, exclude: str) -> tuple[list[str], int]:
    """Ids on page `number` (1-based), newest first, leaving out `exclude`; and the total."""
    skip = (number - 1) * size
    if not await _complete(app):
        return await store.page(app[MONGO], skip, size, exclude)
    own, total = await app[BATCH].run(lambda pipe: (pipe.zrevrank(USERS, exclude), pipe.zcard(USERS)))
    start = skip + 1 if own is not None and own <= skip else skip
    [raw] = await app[BATCH].run(lambda pipe: pipe.zrevrange(USERS, start, start + size))
    ids = [m.decode() for m in raw if m.decode() != exclude][:size]
    return ids, total - (1 if own is not None else 0)


async def random_ids(app: web.Application, count: int) -> list[str]:
    if not await _complete(app):
        return await store.some(app[MONGO], count)
    [raw] = await app[BATCH].run(lambda pipe: pipe.zrandmember(USERS, count))
    return [m.decode() for m in raw or []]


async def search_prefix(app: web.Application, query: str, limit: int) -> list[str]:
    """Ids of users whose name starts with `query` (none while the index is rebuilt: the search
    route also asks MongoDB)."""
    if not await _complete(app):
        return []
    low = query.lower()
    [found] = await app[BATCH].run(lambda pipe: pipe.zrangebylex(NAMES, f"[{low}", f"[{low}\xff", start=0, num=limit))
    return [m.decode().split("\0", 1)[1] for m in found]
