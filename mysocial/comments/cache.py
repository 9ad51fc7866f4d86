"""Comments in Redis: `comment:<id>` hash and `comments:<postId>` sorted set (score: when), the
index of the same name (core.indexes), rebuilt from MongoDB per post. The post's
`commentsCount` moves in the same library call, only when a comment is really added or removed."""
from __future__ import annotations

from aiohttp import web

from mysocial.comments import store
from mysocial.core import cache, functions, indexes
from mysocial.core.appkeys import MONGO
from mysocial.core.cache import ms
from mysocial.core.redis import to_hash
from mysocial.posts import cache as posts

COMMENT = cache.kind("comment", "comment:", lambda app, cid: store.find(app[MONGO], cid))
key = COMMENT.key
LISTED = indexes.listing("comments:", "comments", COMMENT.gone, lambda app, post_id: store.entries(app[MONGO], post_id))
on_post = LISTED.key


async def get(app: web.Application, comment_id: str) -> dict | None:
    return await cache.get(app, COMMENT, comment_id)


async def get_many(app: web.Application, comment_ids: list[str]) -> list[dict]:
    return await cache.get_many(app, COMMENT, comment_ids)


async def for_post(app: web.Application, post_id: str) -> list[dict]:
    return await cache.get_many(app, COMMENT, await LISTED.ids(app, post_id))


def add(pipe, comment: dict) -> None:
    """The result: the post's new commentsCount (a Refused if the post is gone)."""
    post_id = comment["postId"]
    functions.call(pipe, "comment_add", [key(comment["_id"]), COMMENT.gone, posts.key(post_id), on_post(post_id)],
                   {"id": comment["_id"], "score": ms(comment["createdAt"]), "counter": posts.COMMENTS_COUNT},
                   *functions.flat(to_hash(comment)))


def edit(pipe, comment: dict, text: str) -> None:
    cache.patch(pipe, COMMENT, comment["_id"], {"comment": text})


def takedown(pipe, comment: dict, down: bool) -> None:
    """Take the comment down (or restore it): the result is the post's new commentsCount, None if
    it was so already."""
    functions.call(pipe, "comment_takedown", [key(comment["_id"]), posts.key(comment["postId"])],
                   {"down": down, "counter": posts.COMMENTS_COUNT})


def delete(pipe, comment: dict, now_ms: float) -> None:
    """The result: the new commentsCount, None if the comment was gone already."""
    post_id = comment["postId"]
    cache.remove(pipe, COMMENT, comment["_id"], now_ms, on_post(post_id),
                 counter=(posts.key(post_id), posts.COMMENTS_COUNT), complete=on_post(post_id), unless="takenDown")
