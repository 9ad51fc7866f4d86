"""Auth records in Redis: `auth:<authId>` hash (holds the bcrypt hash: never sent out),
`auth:usernames` (lower-cased username -> authId), `auth:emails` (e-mail -> authId),
and one-hour reset tokens `auth:reset:<sha256(token)>` -> authId."""
from __future__ import annotations

import hashlib

import redis.asyncio as aredis
from aiohttp import web
from redis.commands.core import AsyncScript

from mysocial.auth import store
from mysocial.core.appkeys import MONGO, REDIS
from mysocial.core.cache import Kind, read_for_write, read_through
from mysocial.core.redis import text, to_hash

USERNAMES = "auth:usernames"
EMAILS = "auth:emails"
RESET_TTL = 3600

_CLAIM_LUA = """
if redis.call('HEXISTS', KEYS[1], ARGV[1]) == 1 or redis.call('HEXISTS', KEYS[2], ARGV[2]) == 1 then return 0 end
redis.call('HSET', KEYS[1], ARGV[1], ARGV[3])
redis.call('HSET', KEYS[2], ARGV[2], ARGV[3])
return 1
"""
_claim = AsyncScript(aredis.Redis(), _CLAIM_LUA)


def key(auth_id: str) -> str:
    return f"auth:{auth_id}"


def _reset_key(token: str) -> str:
    return "auth:reset:" + hashlib.sha256(token.encode()).hexdigest()


async def claim(app: web.Application, username: str, email: str, auth_id: str) -> bool:
    """Reserve a username and an e-mail together, or neither."""
    return bool(await _claim(keys=[USERNAMES, EMAILS], args=[username.lower(), email, auth_id], client=app[REDIS]))


async def release(app: web.Application, username: str, email: str) -> None:
    async with app[REDIS].pipeline(transaction=True) as pipe:
        pipe.hdel(USERNAMES, username.lower())
        pipe.hdel(EMAILS, email)
        await pipe.execute()


async def _id_by(app: web.Application, index: str, value: str, find) -> str | None:
    found = text(await app[REDIS].hget(index, value))
    if found:
        return found
    doc = await find(app[MONGO], value)
    if doc is None:
        return None
    await app[REDIS].hsetnx(index, value, doc["_id"])
    return doc["_id"]


async def id_by_username(app: web.Application, username: str) -> str | None:
    return await _id_by(app, USERNAMES, username.lower(), store.find_by_username)


async def id_by_email(app: web.Application, email: str) -> str | None:
    return await _id_by(app, EMAILS, email.lower(), store.find_by_email)


AUTH = Kind("auth", key)


async def get(app: web.Application, auth_id: str) -> dict | None:
    return await read_through(app, AUTH, auth_id, lambda aid: store.find(app[MONGO], aid))


async def get_for_write(app: web.Application, auth_id: str) -> dict | None:
    return await read_for_write(app, AUTH, auth_id, lambda aid: store.find(app[MONGO], aid))


def put(pipe, doc: dict) -> None:
    pipe.hset(key(doc["_id"]), mapping=to_hash(doc))


def update(pipe, auth_id: str, fields: dict) -> None:
    pipe.hset(key(auth_id), mapping=to_hash(fields))


async def new_reset_token(app: web.Application, token: str, auth_id: str) -> None:
    await app[REDIS].set(_reset_key(token), auth_id, ex=RESET_TTL)


async def use_reset_token(app: web.Application, token: str) -> str | None:
    """Single use: the token is gone once read."""
    return text(await app[REDIS].getdel(_reset_key(token)))
