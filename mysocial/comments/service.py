"""What the comment routes do: add, list, edit and delete one's own."""
from __future__ import annotations

import time

from aiohttp import web
from bson import ObjectId

import queues
from mysocial.comments import cache
from mysocial.core import pages
from mysocial.core.errors import Forbidden, NotFound
from mysocial.core.functions import Refused
from mysocial.core.mongo import now_iso
from mysocial.core.reads import read_all
from mysocial.core.writepath import Change, commit
from mysocial.graph import cache as graph
from mysocial.posts import access, cache as posts
from mysocial.timelines import trends
from mysocial.users import cache as users

NOT_FOUND = "Comment not found"


def _changes(comment_id: str, post_id: str, deleted: bool = False) -> list[Change]:
    return [Change("comment", comment_id, (cache.key(comment_id),), deleted),
            Change("post", post_id, (posts.key(post_id),))]


def sees(reader: str, hidden: set[str], comment: dict) -> bool:
    """Whether `reader` sees `comment`: not across a block or of a suspended user, and one taken
    down only its author (marked `takenDown`)."""
    author = comment.get("userId")
    return author == reader or (author not in hidden and not comment.get("takenDown"))


async def visible(app: web.Application, reader: str, post_id: str) -> list[dict]:
    """The post's comments the reader may see (the post must be visible to them)."""
    post = await access.readable(app, reader, post_id)
    comments = await cache.for_post(app, post["_id"])
    hidden = await graph.hidden_of(app, reader, (c.get("userId") for c in comments))
    return [c for c in comments if sees(reader, hidden, c)]


async def page(app: web.Application, reader: str, post_id: str, at: pages.Cursor) -> tuple[list[dict], list[str]]:
    """A cursor page of the post's comments the reader may see, and the ids it spans."""
    post = await access.readable(app, reader, post_id)
    ids = await pages.ids(app, cache.LISTED.key(post["_id"]), cache.LISTED.index(post["_id"]), at)
    comments = await cache.get_many(app, ids)
    hidden = await graph.hidden_of(app, reader, (c.get("userId") for c in comments))
    return [c for c in comments if sees(reader, hidden, c)], ids


async def of(app: web.Application, post_id: str, comment_id: str) -> dict:
    """The comment, which must belong to the post."""
    comment = await cache.get(app, comment_id)
    if comment is None or comment["postId"] != post_id:
        raise NotFound(NOT_FOUND)
    return comment


async def single(app: web.Application, reader: str, post_id: str, comment_id: str) -> dict:
    post = await access.readable(app, reader, post_id)
    comment = await of(app, post["_id"], comment_id)
    if not sees(reader, await graph.hidden_of(app, reader, [comment.get("userId")]), comment):
        raise NotFound(NOT_FOUND)
    return comment


async def _mine(app: web.Application, me: str, post_id: str, comment_id: str) -> dict:
    comment = await of(app, post_id, comment_id)
    if comment["userId"] != me:
        raise Forbidden("You can only change your own comments")
    return comment


async def add(app: web.Application, me: dict, post_id: str, text: str) -> dict:
    post, hidden, limited, user = await read_all(app, *access.reach_reads(app, me["userId"], post_id),
                                                 users.card(app, me["userId"]))
    post = await access.check_reachable(app, me["userId"], post, hidden, limited)
    if user is None:
        raise NotFound("User not found")
    comment = {
        "_id": str(ObjectId()), "postId": post["_id"], "userId": user["_id"], "username": user["username"],
        "avatarColor": user["avatarColor"], "profilePicture": user.get("profilePicture", ""),
        "comment": text, "userTo": post["userId"], "createdAt": now_iso(),
    }
    note = access.notice(post, me, "comments", comment["_id"], f"{user['username']} commented on your post.",
                         comment=comment["comment"])
    note = note and queues.stamp(note)  # one notification however often the commit is tried
    count, hidden, limited = await commit(
        app, lambda pipe: cache.add(pipe, comment), _changes(comment["_id"], post["_id"]),
        jobs=(lambda pipe: queues.notify(pipe, note)) if note else None,
        extra=lambda pipe: trends.interacted(pipe, post["_id"], user["_id"]), reads=access.reads(post["userId"]))
    if isinstance(count, Refused):
        raise NotFound(access.NOT_FOUND)
    await access.emit(app, "update comment", {**comment, "commentsCount": count},
                      await access.audience(app, post, hidden, limited))
    return comment


async def edit(app: web.Application, me: str, post_id: str, comment_id: str, text: str) -> dict:
    post = await access.reachable(app, me, post_id)
    comment = await _mine(app, me, post_id, comment_id)
    [done] = await commit(app, lambda pipe: cache.edit(pipe, comment, text), _changes(comment["_id"], post_id))
    if isinstance(done, Refused):
        raise NotFound(NOT_FOUND)
    updated = await cache.get(app, comment["_id"]) or {**comment, "comment": text}
    current = await posts.get(app, post_id) or post
    audience = access.Audience(False, frozenset({me})) if updated.get("takenDown") else await access.audience(app, current)
    await access.emit(app, "update comment", {**updated, "commentsCount": current["commentsCount"]}, audience)
    return updated


async def delete(app: web.Application, me: str, post_id: str, comment_id: str) -> None:
    """One's own comment can be deleted even after a block: only the post must still exist."""
    post = await posts.get(app, post_id)
    if post is None:
        raise NotFound(access.NOT_FOUND)
    comment = await _mine(app, me, post_id, comment_id)
    count, hidden, limited = await commit(app, lambda pipe: cache.delete(pipe, comment, time.time() * 1000),
                                          _changes(comment["_id"], post_id, deleted=True),
                                          reads=access.reads(post["userId"]))
    if count is None or isinstance(count, Refused):
        raise NotFound(NOT_FOUND)
    await access.emit(app, "update comment", {"_id": comment["_id"], "postId": post_id, "commentsCount": count,
                                              "deleted": True}, await access.audience(app, post, hidden, limited))
