"""Reactions: add or change (one per user per post), remove, list per post, per user, single."""
from __future__ import annotations

from aiohttp import web

from mysocial.core import pages, security
from mysocial.core.errors import BadRequest
from mysocial.core.http import body, id_param, json_response
from mysocial.core.openapi import doc
from mysocial.core.pages import CursorQuery
from mysocial.posts.cache import REACTIONS
from mysocial.reactions import service
from mysocial.reactions.schemas import ReactionSchema, ReactionsAnswer, SingleReactionAnswer, UserReactionsAnswer

routes = web.RouteTableDef()


def username_param(request: web.Request) -> str:
    value = request.match_info["username"]
    if not 1 <= len(value) <= 64:
        raise BadRequest("Invalid username")
    return value.capitalize()


@routes.post("/post/reaction")
@doc("React to a post (one reaction per user per post)", body=ReactionSchema, errors=(404,))
async def add_reaction(request: web.Request) -> web.Response:
    me = security.me(request)
    data = await body(request, ReactionSchema)
    await service.react(request.app, me, data["postId"], data["type"])
    return json_response({"message": "Reaction added successfully"})


@routes.delete("/post/reaction/{postId}/{previousReaction}/{postReactions:.+}")
@doc("Remove my reaction (the last segment, counts sent by old clients, is ignored)", errors=(404,),
     params={"previousReaction": {"type": "string", "enum": list(REACTIONS)}})
async def remove_reaction(request: web.Request) -> web.Response:
    """`postReactions` (counts sent by old clients) is ignored: the counts are Redis's."""
    me = security.me(request)
    post_id = id_param(request, "postId", "post id")
    if request.match_info["previousReaction"] not in REACTIONS:
        raise BadRequest("Invalid reaction type")
    await service.take_back(request.app, me, post_id)
    return json_response({"message": "Reaction removed from post"})


@routes.get("/post/reactions/{postId}")
@doc("A post's reactions", answer=ReactionsAnswer, errors=(404,))
async def post_reactions(request: web.Request) -> web.Response:
    me = security.me(request)
    reactions = await service.of_post(request.app, me["userId"], id_param(request, "postId", "post id"))
    return json_response({"message": "Post reactions", "reactions": reactions, "count": len(reactions)})


@routes.get("/posts/{postId}/reactions")
@doc("A post's reactions, newest first, in cursor pages (Link header)", answer=ReactionsAnswer, query=CursorQuery,
     errors=(404,))
async def reactions_page(request: web.Request) -> web.Response:
    me = security.me(request)["userId"]
    at = pages.cursor(request)
    found, ids = await service.page(request.app, me, id_param(request, "postId", "post id"), at)
    return json_response({"message": "Post reactions", "reactions": found, "count": len(found)},
                         headers=pages.link(request, ids, at))


@routes.get("/post/single/reaction/username/{username}/{postId}")
@doc("One user's reaction to a post", answer=SingleReactionAnswer, errors=(404,),
     params={"username": {"type": "string", "minLength": 1, "maxLength": 64}})
async def single_reaction(request: web.Request) -> web.Response:
    me = security.me(request)
    username = username_param(request)
    reaction = await service.single(request.app, me["userId"], username, id_param(request, "postId", "post id"))
    return json_response({"message": "Single post reaction by username", "reactions": reaction or {},
                          "count": 1 if reaction else 0})


@routes.get("/post/reactions/username/{username}")
@doc("A user's reactions to posts I may see", answer=UserReactionsAnswer,
     params={"username": {"type": "string", "minLength": 1, "maxLength": 64}})
async def user_reactions(request: web.Request) -> web.Response:
    me = security.me(request)
    reactions = await service.of_user(request.app, me["userId"], username_param(request))
    return json_response({"message": "All user reactions by username", "reactions": reactions})
