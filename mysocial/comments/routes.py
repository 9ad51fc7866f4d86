"""Comments: add, list per post, commenter names, single, edit and delete one's own.

Edit and delete are MySocial additions (the original had neither):
PUT /post/comment/:postId/:commentId {comment} -> 200 `Comment updated successfully`;
DELETE /post/comment/:postId/:commentId -> 200 `Comment deleted successfully`.
"""
from __future__ import annotations

from aiohttp import web

from mysocial.comments import service
from mysocial.comments.schemas import (
    CommentAnswer, CommentNamesAnswer, CommentSchema, CommentsAnswer, EditCommentSchema, SingleCommentAnswer,
)
from mysocial.core import pages, security
from mysocial.core.http import body, id_param, json_response
from mysocial.core.openapi import doc
from mysocial.core.pages import CursorQuery

routes = web.RouteTableDef()


def comment_id_param(request: web.Request) -> str:
    return id_param(request, "commentId", "comment id")


@routes.post("/post/comment")
@doc("Comment on a post", body=CommentSchema, answer=CommentAnswer, errors=(404,))
async def add_comment(request: web.Request) -> web.Response:
    me = security.me(request)
    data = await body(request, CommentSchema)
    comment = await service.add(request.app, me, data["postId"], data["comment"])
    return json_response({"message": "Comment created successfully", "comment": comment})


@routes.get("/post/comments/{postId}")
@doc("A post's comments", answer=CommentsAnswer, errors=(404,))
async def post_comments(request: web.Request) -> web.Response:
    me = security.me(request)
    comments = await service.visible(request.app, me["userId"], id_param(request, "postId", "post id"))
    return json_response({"message": "Post comments", "comments": comments})


@routes.get("/posts/{postId}/comments")
@doc("A post's comments, newest first, in cursor pages (Link header)", answer=CommentsAnswer, query=CursorQuery,
     errors=(404,))
async def comments_page(request: web.Request) -> web.Response:
    me = security.me(request)["userId"]
    at = pages.cursor(request)
    found, ids = await service.page(request.app, me, id_param(request, "postId", "post id"), at)
    return json_response({"message": "Post comments", "comments": found}, headers=pages.link(request, ids, at))


@routes.get("/post/commentsnames/{postId}")
@doc("How many comments, and who wrote them", answer=CommentNamesAnswer, errors=(404,))
async def commenter_names(request: web.Request) -> web.Response:
    """`count`: comments; `names`: who wrote them, newest first, each once."""
    me = security.me(request)
    comments = await service.visible(request.app, me["userId"], id_param(request, "postId", "post id"))
    names = list(dict.fromkeys(c["username"] for c in comments))
    return json_response({"message": "Post comments names", "comments": {"count": len(comments), "names": names}})


@routes.get("/post/single/comment/{postId}/{commentId}")
@doc("One comment", answer=SingleCommentAnswer, errors=(404,))
async def single_comment(request: web.Request) -> web.Response:
    me = security.me(request)
    post_id = id_param(request, "postId", "post id")
    comment = await service.single(request.app, me["userId"], post_id, comment_id_param(request))
    return json_response({"message": "Single comment", "comments": comment})


@routes.put("/post/comment/{postId}/{commentId}")
@doc("Edit my comment", body=EditCommentSchema, answer=CommentAnswer, errors=(404,))
async def edit_comment(request: web.Request) -> web.Response:
    me = security.me(request)
    post_id = id_param(request, "postId", "post id")
    data = await body(request, EditCommentSchema)
    comment = await service.edit(request.app, me["userId"], post_id, comment_id_param(request), data["comment"])
    return json_response({"message": "Comment updated successfully", "comment": comment})


@routes.delete("/post/comment/{postId}/{commentId}")
@doc("Delete my comment", errors=(404,))
async def delete_comment(request: web.Request) -> web.Response:
    me = security.me(request)
    post_id = id_param(request, "postId", "post id")
    await service.delete(request.app, me["userId"], post_id, comment_id_param(request))
    return json_response({"message": "Comment deleted successfully"})
