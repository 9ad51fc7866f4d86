"""Comments: add, list per post, commenter names, single, edit and delete one's own.

Edit and delete are MySocial additions (the original had neither):
PUT /post/comment/:postId/:commentId {comment} -> 200 `Comment updated successfully`;
DELETE /post/comment/:postId/:commentId -> 200 `Comment deleted successfully`.
"""
from __future__ import annotations

import time

from aiohttp import web
from bson import ObjectId

import queues
from mysocial.core.openapi import doc
from mysocial.comments.schemas import CommentAnswer, CommentNamesAnswer, CommentsAnswer, SingleCommentAnswer
from mysocial.blocks import cache as blocks
from mysocial.comments import cache
from mysocial.comments.schemas import CommentSchema, EditCommentSchema
from mysocial.core import security
from mysocial.core.appkeys import BATCH
from mysocial.core.errors import BadRequest, Forbidden, NotFound
from mysocial.core.http import body, id_param, json_response
from mysocial.core.mongo import is_oid, now_iso
from mysocial.core.writepath import Change, commit
from mysocial.posts import access
from mysocial.posts import cache as posts
from mysocial.users import cache as users

NOT_FOUND = "Comment not found"
routes = web.RouteTableDef()


def changes(comment_id: str, post_id: str, deleted: bool = False) -> list[Change]:
    return [Change("comment", comment_id, (cache.key(comment_id),), deleted),
            Change("post", post_id, (posts.key(post_id),))]


async def visible_comments(app: web.Application, reader: str, post_id: str) -> list[dict]:
    hidden = await blocks.hidden_from(app, reader)
    return [c for c in await cache.for_post(app, post_id) if c.get("userId") not in hidden]


async def comment_of(request: web.Request, post_id: str) -> dict:
    """The comment named in the path, which must belong to the post in the path."""
    comment_id = request.match_info["commentId"]
    if not is_oid(comment_id):
        raise BadRequest("Invalid comment id")
    comment = await cache.get(request.app, comment_id)
    if comment is None or comment["postId"] != post_id:
        raise NotFound(NOT_FOUND)
    return comment


async def mine(request: web.Request, me: str, post_id: str) -> dict:
    comment = await comment_of(request, post_id)
    if comment["userId"] != me:
        raise Forbidden("You can only change your own comments")
    return comment


@routes.post("/post/comment")
@doc("Comment on a post", body=CommentSchema, answer=CommentAnswer, errors=(404,))
async def add_comment(request: web.Request) -> web.Response:
    me = security.me(request)
    data = await body(request, CommentSchema)
    app = request.app
    post = await access.reachable(app, me["userId"], data["postId"])
    user = await users.require(app, me["userId"])
    comment = {
        "_id": str(ObjectId()), "postId": post["_id"], "userId": user["_id"], "username": user["username"],
        "avatarColor": user["avatarColor"], "profilePicture": user.get("profilePicture", ""),
        "comment": data["comment"], "userTo": post["userId"], "createdAt": now_iso(),
    }
    note = access.notice(post, me, "comments", comment["_id"], f"{user['username']} commented on your post.",
                         comment=comment["comment"])
    _, added, count = await commit(app[BATCH], lambda pipe: cache.add(pipe, comment, post),
                                   changes(comment["_id"], post["_id"]),
                                   extra=(lambda pipe: queues.notify(pipe, note)) if note else None)
    if not added:
        raise NotFound(access.NOT_FOUND)
    await access.emit(app, "update comment", {**comment, "commentsCount": count}, await access.audience(app, post))
    return json_response({"message": "Comment created successfully", "comment": comment})


@routes.get("/post/comments/{postId}")
@doc("A post's comments", answer=CommentsAnswer, errors=(404,))
async def post_comments(request: web.Request) -> web.Response:
    me = security.me(request)
    post = await access.readable(request.app, me["userId"], id_param(request, "postId", "post id"))
    comments = await visible_comments(request.app, me["userId"], post["_id"])
    return json_response({"message": "Post comments", "comments": comments})


@routes.get("/post/commentsnames/{postId}")
@doc("How many comments, and who wrote them", answer=CommentNamesAnswer, errors=(404,))
async def commenter_names(request: web.Request) -> web.Response:
    """`count`: comments; `names`: who wrote them, newest first, each once."""
    me = security.me(request)
    post = await access.readable(request.app, me["userId"], id_param(request, "postId", "post id"))
    comments = await visible_comments(request.app, me["userId"], post["_id"])
    names = list(dict.fromkeys(c["username"] for c in comments))
    return json_response({"message": "Post comments names", "comments": {"count": len(comments), "names": names}})


@routes.get("/post/single/comment/{postId}/{commentId}")
@doc("One comment", answer=SingleCommentAnswer, errors=(404,))
async def single_comment(request: web.Request) -> web.Response:
    me = security.me(request)
    post = await access.readable(request.app, me["userId"], id_param(request, "postId", "post id"))
    comment = await comment_of(request, post["_id"])
    if comment.get("userId") in await blocks.hidden_from(request.app, me["userId"]):
        raise NotFound(NOT_FOUND)
    return json_response({"message": "Single comment", "comments": comment})


@routes.put("/post/comment/{postId}/{commentId}")
@doc("Edit my comment", body=EditCommentSchema, answer=CommentAnswer, errors=(404,))
async def edit_comment(request: web.Request) -> web.Response:
    me = security.me(request)
    post_id = id_param(request, "postId", "post id")
    data = await body(request, EditCommentSchema)
    app = request.app
    post = await access.reachable(app, me["userId"], post_id)
    comment = await mine(request, me["userId"], post_id)
    await commit(app[BATCH], lambda pipe: cache.edit(pipe, comment, data["comment"]), changes(comment["_id"], post_id))
    updated = await cache.get(app, comment["_id"]) or {**comment, "comment": data["comment"]}
    current = await posts.get(app, post_id) or post
    await access.emit(app, "update comment", {**updated, "commentsCount": current["commentsCount"]},
                      await access.audience(app, current))
    return json_response({"message": "Comment updated successfully", "comment": updated})


@routes.delete("/post/comment/{postId}/{commentId}")
@doc("Delete my comment", errors=(404,))
async def delete_comment(request: web.Request) -> web.Response:
    """One's own comment can be deleted even after a block: only the post must still exist."""
    me = security.me(request)
    post_id = id_param(request, "postId", "post id")
    app = request.app
    post = await posts.get(app, post_id)
    if post is None:
        raise NotFound(access.NOT_FOUND)
    comment = await mine(request, me["userId"], post_id)
    await cache.ready(app, post_id)
    _, count = await commit(app[BATCH], lambda pipe: cache.delete(pipe, comment, post, time.time() * 1000),
                            changes(comment["_id"], post_id, deleted=True))
    if count is None:
        raise NotFound(NOT_FOUND)
    await access.emit(app, "update comment", {"_id": comment["_id"], "postId": post_id, "commentsCount": count,
                                              "deleted": True}, await access.audience(app, post))
    return json_response({"message": "Comment deleted successfully"})
