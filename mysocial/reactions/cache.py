"""Reactions in Redis.

- `reaction:<id>` hash: one user's reaction to one post. The id is derived from (post,
  username), so a user has at most one reaction per post and a new kind overwrites the old one.
- `reactions:<postId>` and `reactions:by:<username>` sorted sets (score: when): the indexes of
  the same names (core.indexes), rebuilt from MongoDB per post and per user.

The per-kind counts live in the post hash (`reactions.<kind>`) and move in the same library
call that swaps the reaction (reaction_set), so concurrent reactions never lose an update and a
kind is never counted twice.
"""
from __future__ import annotations

import hashlib

from aiohttp import web

from mysocial.core import cache, functions, indexes
from mysocial.core.appkeys import MONGO
from mysocial.core.cache import GONE_FOR_MS
from mysocial.core.reads import Read
from mysocial.core.redis import to_hash
from mysocial.posts import cache as posts
from mysocial.reactions import store

REACTION = cache.kind("reaction", "reaction:", lambda app, rid: store.find(app[MONGO], rid))
key = REACTION.key
ON_POST = indexes.listing("reactions:", "reactions", REACTION.gone,
                          lambda app, post_id: store.entries(app[MONGO], postId=post_id))
BY_USER = indexes.listing("reactions:by:", "reactions", REACTION.gone,  # by lower-cased username
                          lambda app, name: store.entries(app[MONGO], username=name.capitalize()))
on_post = ON_POST.key


def by_user(username: str) -> str:
    return BY_USER.key(username.lower())


def post_index(post_id: str) -> indexes.Index:
    return ON_POST.index(post_id)


def reaction_id(post_id: str, username: str) -> str:
    """One id per (post, user): 24 hex digits, like an ObjectId."""
    return hashlib.blake2b(f"{post_id}:{username.lower()}".encode(), digest_size=12).hexdigest()


async def get(app: web.Application, reaction_id_: str) -> dict | None:
    return await cache.get(app, REACTION, reaction_id_)


def read(app: web.Application, reaction_id_: str) -> Read:
    return cache.doc(REACTION, reaction_id_)


async def get_many(app: web.Application, reaction_ids: list[str]) -> list[dict]:
    return await cache.get_many(app, REACTION, reaction_ids)


async def for_post(app: web.Application, post_id: str) -> list[dict]:
    return await cache.get_many(app, REACTION, await ON_POST.ids(app, post_id))


async def for_user(app: web.Application, username: str) -> list[dict]:
    return await cache.get_many(app, REACTION, await BY_USER.ids(app, username.lower()))


def react(pipe, post_id: str, username: str, doc: dict | None, now_ms: float) -> None:
    """Set (doc) or remove (None) `username`'s reaction to the post and move the counts; the
    result is the previous type ('' for none)."""
    rid = reaction_id(post_id, username)
    keys = [posts.key(post_id), key(rid), on_post(post_id), by_user(username), REACTION.gone,
            post_index(post_id).marker]
    named = {"id": rid, "prefix": posts.REACTION_FIELD, "type": doc["type"] if doc else "", "now": int(now_ms),
             "keep_ms": GONE_FOR_MS}
    functions.call(pipe, "reaction_set", keys, named, *functions.flat(to_hash(doc or {})))
