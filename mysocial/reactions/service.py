"""What the reaction routes do: react (one reaction per user per post), take it back, list."""
from __future__ import annotations

import time

from aiohttp import web

import queues
from mysocial.core import indexes, pages
from mysocial.core.errors import NotFound
from mysocial.core.functions import Refused
from mysocial.core.mongo import now_iso
from mysocial.core.reads import read_all
from mysocial.core.writepath import Change, commit
from mysocial.graph import cache as graph
from mysocial.posts import access, cache as posts
from mysocial.timelines import trends
from mysocial.reactions import cache
from mysocial.users import cache as users


async def _load(app: web.Application, me: dict, post_id: str
                ) -> tuple[dict | None, dict, set[str], dict | None, bool | None]:
    """The post, whom I am in a block with and whether its author is limited (access.reach_reads),
    my user and my reaction to the post: one round trip. (The reaction's id comes from my
    username, which never changes.)"""
    post, hidden, limited, user, current, complete = await read_all(
        app, *access.reach_reads(app, me["userId"], post_id), users.card(app, me["userId"]),
        cache.read(app, cache.reaction_id(post_id, me["username"])), indexes.is_complete(cache.post_index(post_id)))
    if user is None:
        raise NotFound("User not found")
    if post is not None:
        await indexes.ensure(app, cache.post_index(post_id), complete)  # reaction_set decides by it
    return post, user, hidden, current, limited


async def _change(app: web.Application, post: dict, user: dict, doc: dict | None) -> None:
    """Set or remove `user`'s reaction through the write path, then tell the post's audience."""
    post_id, rid = post["_id"], cache.reaction_id(post["_id"], user["username"])
    note = doc and access.notice(post, {"userId": user["_id"]}, "reactions", rid,
                                 f"{user['username']} reacted to your post.", reaction=doc["type"])
    note = note and queues.stamp(note)  # one notification however often the commit is tried
    previous, counts, hidden, limited = await commit(
        app, lambda pipe: cache.react(pipe, post_id, user["username"], doc, time.time() * 1000),
        [Change("reaction", rid, (cache.key(rid),), deleted=doc is None), Change("post", post_id, (posts.key(post_id),))],
        jobs=(lambda pipe: queues.notify(pipe, note)) if note else None,
        extra=(lambda pipe: trends.interacted(pipe, post_id, user["_id"])) if doc else None,
        reads=[posts.reactions_read(post_id), *access.reads(post["userId"])])
    if isinstance(previous, Refused):  # the post was deleted meanwhile
        raise NotFound(access.NOT_FOUND)
    await access.emit(app, "update like", {
        "postId": post_id, "userTo": post["userId"], "username": user["username"],
        "type": doc["type"] if doc else "", "previousReaction": previous.decode(),
        "postReactions": counts, "profilePicture": user.get("profilePicture", ""),
        "avatarColor": user["avatarColor"],
    }, await access.audience(app, post, hidden, limited))


async def react(app: web.Application, me: dict, post_id: str, kind: str) -> None:
    post, user, hidden, current, limited = await _load(app, me, post_id)
    post = await access.check_reachable(app, me["userId"], post, hidden, limited)
    if current is None or current["type"] != kind:
        doc = {
            "_id": cache.reaction_id(post["_id"], user["username"]), "postId": post["_id"], "type": kind,
            "username": user["username"], "avataColor": user["avatarColor"],
            "profilePicture": user.get("profilePicture", ""), "userTo": post["userId"], "userId": user["_id"],
            "createdAt": now_iso(),
        }
        await _change(app, post, user, doc)


async def take_back(app: web.Application, me: dict, post_id: str) -> None:
    post, user, _, current, _ = await _load(app, me, post_id)
    if post is None:
        raise NotFound(access.NOT_FOUND)
    if current is None:
        raise NotFound("Reaction not found")
    await _change(app, post, user, None)


async def of_post(app: web.Application, reader: str, post_id: str) -> list[dict]:
    post = await access.readable(app, reader, post_id)
    reactions = await cache.for_post(app, post["_id"])
    hidden = await graph.hidden_of(app, reader, (r.get("userId") for r in reactions))
    return [r for r in reactions if r.get("userId") not in hidden]


async def page(app: web.Application, reader: str, post_id: str, at: pages.Cursor) -> tuple[list[dict], list[str]]:
    """A cursor page of the post's reactions the reader may see, and the ids it spans."""
    post = await access.readable(app, reader, post_id)
    ids = await pages.ids(app, cache.ON_POST.key(post["_id"]), cache.ON_POST.index(post["_id"]), at)
    reactions = await cache.get_many(app, ids)
    hidden = await graph.hidden_of(app, reader, (r.get("userId") for r in reactions))
    return [r for r in reactions if r.get("userId") not in hidden], ids


async def single(app: web.Application, reader: str, username: str, post_id: str) -> dict | None:
    post = await access.readable(app, reader, post_id)
    reaction = await cache.get(app, cache.reaction_id(post["_id"], username))
    if reaction and reaction.get("userId") in await graph.hidden_of(app, reader, [reaction.get("userId")]):
        return None
    return reaction


async def of_user(app: web.Application, reader: str, username: str) -> list[dict]:
    """Only reactions to posts the reader may see, by someone not in a block with the reader."""
    reactions = await cache.for_user(app, username)
    post_ids = list(dict.fromkeys(r["postId"] for r in reactions))
    seen = {p["_id"]: p for p in await posts.get_many(app, post_ids)}
    sees = await access.viewer(app, reader)
    hidden = await graph.hidden_from(app, reader)
    return [r for r in reactions if r["postId"] in seen and sees(seen[r["postId"]]) and r.get("userId") not in hidden]
