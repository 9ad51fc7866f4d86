"""Reactions in Redis.

- `reaction:<id>` hash: one user's reaction to one post. The id is derived
  from (post, username), so a user has at most one reaction per post and a
  new kind overwrites the old one in place.
- `reactions:<postId>` and `reactions:by:<username>` sorted sets (score: when),
  lazily loaded from MongoDB (see mysocial.core.index).

The per-kind counts live in the post hash (`reactions.<kind>`) and move in the
same Lua call that swaps the reaction, so concurrent reactions never lose an
update and a kind is never counted twice.
"""
from __future__ import annotations

import hashlib

import redis.asyncio as aredis
from aiohttp import web
from redis.commands.core import AsyncScript

from mysocial.core import index
from mysocial.core.appkeys import MONGO
from mysocial.core.cache import Kind, doc, read_many, read_through
from mysocial.core.index import GONE_FOR_MS
from mysocial.core.reads import Read
from mysocial.core.redis import run_script
from mysocial.posts import cache as posts
from mysocial.reactions import store

# KEYS: post, reaction, reactions:<post>, reactions:by:<user>, gone. ARGV: id, counter prefix,
# type to assume if the reaction's hash was evicted, new type ('' removes), now ms, keep gone ms, fields...
# Returns the previous type ('' for none), or nil if the post is gone.
_REACT_LUA = """
if redis.call('EXISTS', KEYS[1]) == 0 then return false end
local id, prefix, new = ARGV[1], ARGV[2], ARGV[4]
local old = ''
if redis.call('ZSCORE', KEYS[3], id) then
  local raw = redis.call('HGET', KEYS[2], 'type')
  if raw then old = cjson.decode(raw) else old = ARGV[3] end
end
if old == new then return old end
if old ~= '' then redis.call('HINCRBY', KEYS[1], prefix .. old, -1) end
if new ~= '' then
  redis.call('HINCRBY', KEYS[1], prefix .. new, 1)
  redis.call('DEL', KEYS[2])
  redis.call('HSET', KEYS[2], unpack(ARGV, 7))
  redis.call('ZADD', KEYS[3], ARGV[5], id)
  redis.call('ZADD', KEYS[4], ARGV[5], id)
  redis.call('ZREM', KEYS[5], id)
else
  redis.call('DEL', KEYS[2])
  redis.call('ZREM', KEYS[3], id)
  redis.call('ZREM', KEYS[4], id)
  redis.call('ZADD', KEYS[5], ARGV[5], id)
  redis.call('ZREMRANGEBYSCORE', KEYS[5], '-inf', tonumber(ARGV[5]) - tonumber(ARGV[6]))
end
return old
"""
_react = AsyncScript(aredis.Redis(), _REACT_LUA)


def key(reaction_id: str) -> str:
    return f"reaction:{reaction_id}"


def on_post(post_id: str) -> str:
    return f"reactions:{post_id}"


def by_user(username: str) -> str:
    return f"reactions:by:{username.lower()}"


REACTION = Kind("reaction", key)


def reaction_id(post_id: str, username: str) -> str:
    """One id per (post, user): 24 hex digits, like an ObjectId."""
    return hashlib.blake2b(f"{post_id}:{username.lower()}".encode(), digest_size=12).hexdigest()


async def get(app: web.Application, reaction_id_: str) -> dict | None:
    return await read_through(app, REACTION, reaction_id_, lambda rid: store.find(app[MONGO], rid))


def read(app: web.Application, reaction_id_: str) -> Read:
    """`get` as a `Read` (mysocial.core.reads)."""
    return doc(REACTION, reaction_id_, lambda rid: store.find(app[MONGO], rid))


async def for_post(app: web.Application, post_id: str) -> list[dict]:
    ids = await index.ids(app, REACTION, on_post(post_id), lambda: store.entries(app[MONGO], postId=post_id))
    return await read_many(app, REACTION, ids, lambda rid: store.find(app[MONGO], rid))


async def for_user(app: web.Application, username: str) -> list[dict]:
    ids = await index.ids(app, REACTION, by_user(username),
                          lambda: store.entries(app[MONGO], username=username.capitalize()))
    return await read_many(app, REACTION, ids, lambda rid: store.find(app[MONGO], rid))


def ready_read(post_id: str) -> Read:
    """Whether the post's index is loaded, as a `Read` (see `ready`)."""
    return index.is_loaded(on_post(post_id))


async def ready(app: web.Application, post_id: str, loaded: bool | None = None) -> None:
    """The post's index must be loaded before a write: it says whether a reaction exists."""
    await index.ensure_loaded(app, REACTION, on_post(post_id), lambda: store.entries(app[MONGO], postId=post_id),
                              loaded)


def react(pipe, post_id: str, username: str, doc: dict | None, assumed: str, now_ms: float) -> None:
    """Set (doc) or remove (None) `username`'s reaction to the post and move the counts."""
    rid = reaction_id(post_id, username)
    keys = [posts.key(post_id), key(rid), on_post(post_id), by_user(username), REACTION.gone]
    args = [rid, posts.REACTION_FIELD, assumed, doc["type"] if doc else "", int(now_ms), GONE_FOR_MS, *index.pairs(doc or {})]
    run_script(pipe, _react, keys, args)
