"""Comments in Redis: `comment:<id>` hash and `comments:<postId>` sorted set (score: when),
lazily loaded from MongoDB (see mysocial.core.index). The post's `commentsCount`
moves in the same transaction, only when a comment was really added or removed."""
from __future__ import annotations

from aiohttp import web

from mysocial.comments import store
from mysocial.core import index
from mysocial.core.appkeys import MONGO
from mysocial.core.index import Kind, ms
from mysocial.posts import cache as posts


def key(comment_id: str) -> str:
    return f"comment:{comment_id}"


def on_post(post_id: str) -> str:
    return f"comments:{post_id}"


COMMENT = Kind("comment", key)


async def get(app: web.Application, comment_id: str) -> dict | None:
    return await index.get(app, COMMENT, comment_id, lambda cid: store.find(app[MONGO], cid))


async def ready(app: web.Application, post_id: str) -> None:
    await index.ensure_loaded(app, COMMENT, on_post(post_id), lambda: store.entries(app[MONGO], post_id))


async def for_post(app: web.Application, post_id: str) -> list[dict]:
    ids = await index.ids(app, COMMENT, on_post(post_id), lambda: store.entries(app[MONGO], post_id))
    return await index.get_many(app, COMMENT, ids, lambda cid: store.find(app[MONGO], cid))


def add(pipe, comment: dict, post: dict) -> None:
    """Results: restore, added (0 if the post is gone), new commentsCount."""
    posts.restore(pipe, post)
    index.add(pipe, COMMENT, comment, ms(comment["createdAt"]), [on_post(post["_id"])], parent=posts.key(post["_id"]))
    posts.bump_comments(pipe, post["_id"], 1)


def edit(pipe, comment: dict, text: str) -> None:
    index.restore(pipe, COMMENT, comment["_id"], comment)
    index.patch(pipe, key(comment["_id"]), {"comment": text})


def delete(pipe, comment: dict, post: dict, now_ms: float) -> None:
    """Results: restore, then the new commentsCount (None if the comment was already gone)."""
    posts.restore(pipe, post)
    index.remove(pipe, COMMENT, comment["_id"], now_ms, on_post(post["_id"]),
                 counter=(posts.key(post["_id"]), posts.COMMENTS_COUNT))
