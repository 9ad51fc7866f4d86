"""Auth records in Redis: `auth:<authId>` hash (holds the bcrypt hash: never sent out),
`auth:usernames` (lower-cased username -> authId), `auth:emails` (e-mail -> authId), lookups
filled from MongoDB on a miss, and one-hour reset tokens `auth:reset:<sha256(token)>` -> authId."""
from __future__ import annotations

import hashlib

from aiohttp import web

from mysocial.auth import store
from mysocial.core import cache, functions
from mysocial.core.appkeys import BATCH, MONGO
from mysocial.core.redis import text, to_hash

USERNAMES = "auth:usernames"
EMAILS = "auth:emails"
RESET_TTL = 3600

AUTH = cache.kind("auth", "auth:", lambda app, aid: store.find(app[MONGO], aid))
key = AUTH.key


def _reset_key(token: str) -> str:
    return "auth:reset:" + hashlib.sha256(token.encode()).hexdigest()


async def claim(app: web.Application, username: str, email: str, auth_id: str) -> bool:
    """Reserve a username and an e-mail together, or neither."""
    [claimed] = await app[BATCH].run(lambda pipe: functions.call(
        pipe, "auth_claim", [USERNAMES, EMAILS], {"username": username.lower(), "email": email, "authId": auth_id}))
    return bool(claimed)


async def release(app: web.Application, username: str, email: str) -> None:
    await app[BATCH].transaction(lambda pipe: (pipe.hdel(USERNAMES, username.lower()), pipe.hdel(EMAILS, email)))


async def _id_by(app: web.Application, index: str, value: str, find) -> str | None:
    [found] = await app[BATCH].run(lambda pipe: pipe.hget(index, value))
    if found:
        return text(found)
    doc = await find(app[MONGO], value)
    if doc is None:
        return None
    await app[BATCH].run(lambda pipe: pipe.hsetnx(index, value, doc["_id"]))
    return doc["_id"]


async def id_by_username(app: web.Application, username: str) -> str | None:
    return await _id_by(app, USERNAMES, username.lower(), store.find_by_username)


async def id_by_email(app: web.Application, email: str) -> str | None:
    return await _id_by(app, EMAILS, email.lower(), store.find_by_email)


async def get(app: web.Application, auth_id: str) -> dict | None:
    return await cache.get(app, AUTH, auth_id)


def put(pipe, doc: dict) -> None:
    """A new record (sign-up)."""
    pipe.hset(key(doc["_id"]), mapping=to_hash(doc))


def update(pipe, auth_id: str, fields: dict) -> None:
    cache.patch(pipe, AUTH, auth_id, fields)


async def new_reset_token(app: web.Application, token: str, auth_id: str) -> None:
    await app[BATCH].run(lambda pipe: pipe.set(_reset_key(token), auth_id, ex=RESET_TTL))


async def use_reset_token(app: web.Application, token: str) -> str | None:
    """Single use: the token is gone once read."""
    [found] = await app[BATCH].run(lambda pipe: pipe.getdel(_reset_key(token)))
    return text(found)
