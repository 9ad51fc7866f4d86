"""Reactions: add or change (one per user per post), remove, list per post, per user, single."""
from __future__ import annotations

import time

from aiohttp import web

import queues
from mysocial.core.openapi import doc
from mysocial.reactions.schemas import ReactionsAnswer, SingleReactionAnswer, UserReactionsAnswer
from mysocial.blocks import cache as blocks
from mysocial.core import security
from mysocial.core.appkeys import BATCH
from mysocial.core.errors import BadRequest, NotFound
from mysocial.core.http import body, id_param, json_response
from mysocial.core.mongo import now_iso
from mysocial.core.reads import read_all
from mysocial.core.writepath import Change, commit
from mysocial.posts import access
from mysocial.posts import cache as posts
from mysocial.reactions import cache
from mysocial.reactions.schemas import ReactionSchema
from mysocial.users import cache as users

routes = web.RouteTableDef()


def username_param(request: web.Request) -> str:
    value = request.match_info["username"]
    if not 1 <= len(value) <= 64:
        raise BadRequest("Invalid username")
    return value.capitalize()


async def change(app: web.Application, post: dict, user: dict, doc: dict | None, current: dict | None,
                 encoded: dict | None = None) -> None:
    """Set or remove `user`'s reaction through the write path, then tell the post's audience."""
    post_id, rid = post["_id"], cache.reaction_id(post["_id"], user["username"])
    note = doc and access.notice(post, {"userId": user["_id"]}, "reactions", rid,
                                 f"{user['username']} reacted to your post.", reaction=doc["type"])

    def write(pipe) -> None:
        posts.restore(pipe, post, encoded)
        cache.react(pipe, post_id, user["username"], doc, current["type"] if current else "", time.time() * 1000)

    *_, previous, counts, hidden = await commit(
        app[BATCH], write,
        [Change("reaction", rid, (cache.key(rid),), deleted=doc is None), Change("post", post_id, (posts.key(post_id),))],
        extra=(lambda pipe: queues.notify(pipe, note)) if note else None,
        reads=[posts.reactions_read(post_id), blocks.hidden(post["userId"])], app=app)
    if previous is None:
        raise NotFound(access.NOT_FOUND)
    await access.emit(app, "update like", {
        "postId": post_id, "userTo": post["userId"], "username": user["username"],
        "type": doc["type"] if doc else "", "previousReaction": previous.decode(),
        "postReactions": counts, "profilePicture": user.get("profilePicture", ""),
        "avatarColor": user["avatarColor"],
    }, await access.audience(app, post, hidden))


async def load(app: web.Application, me: dict, post_id: str) -> tuple[tuple, dict, set[str], dict | None]:
    """The post (and its hash as read), my user, whom I am in a block with, and my reaction to
    the post: one round trip. (The reaction's id comes from my username, which never changes.)"""
    post, user, hidden, current, loaded = await read_all(
        app, posts.read_for_change(app, post_id), users.card(app, me["userId"]), blocks.hidden(me["userId"]),
        cache.read(app, cache.reaction_id(post_id, me["username"])), cache.ready_read(post_id))
    if user is None:
        raise NotFound("User not found")
    if post[0] is not None:
        await cache.ready(app, post_id, loaded)
    return post, user, hidden, current


@routes.post("/post/reaction")
@doc("React to a post (one reaction per user per post)", body=ReactionSchema, errors=(404,))
async def add_reaction(request: web.Request) -> web.Response:
    me = security.me(request)
    data = await body(request, ReactionSchema)
    app = request.app
    (post, encoded), user, hidden, current = await load(app, me, data["postId"])
    post = await access.check_reachable(app, me["userId"], post, hidden)
    if current is None or current["type"] != data["type"]:
        doc = {
            "_id": cache.reaction_id(post["_id"], user["username"]), "postId": post["_id"], "type": data["type"],
            "username": user["username"], "avataColor": user["avatarColor"],
            "profilePicture": user.get("profilePicture", ""), "userTo": post["userId"], "userId": user["_id"],
            "createdAt": now_iso(),
        }
        await change(app, post, user, doc, current, encoded)
    return json_response({"message": "Reaction added successfully"})


@routes.delete("/post/reaction/{postId}/{previousReaction}/{postReactions:.+}")
@doc("Remove my reaction (the last segment, counts sent by old clients, is ignored)", errors=(404,), params={"previousReaction": {"type": "string", "enum": list(posts.REACTIONS)}})
async def remove_reaction(request: web.Request) -> web.Response:
    """`postReactions` (counts sent by old clients) is ignored: the counts are Redis's."""
    me = security.me(request)
    post_id = id_param(request, "postId", "post id")
    if request.match_info["previousReaction"] not in posts.REACTIONS:
        raise BadRequest("Invalid reaction type")
    app = request.app
    (post, encoded), user, _, current = await load(app, me, post_id)
    if post is None:
        raise NotFound(access.NOT_FOUND)
    if current is None:
        raise NotFound("Reaction not found")
    await change(app, post, user, None, current, encoded)
    return json_response({"message": "Reaction removed from post"})


@routes.get("/post/reactions/{postId}")
@doc("A post's reactions", answer=ReactionsAnswer, errors=(404,))
async def post_reactions(request: web.Request) -> web.Response:
    me = security.me(request)
    app = request.app
    post = await access.readable(app, me["userId"], id_param(request, "postId", "post id"))
    hidden = await blocks.hidden_from(app, me["userId"])
    reactions = [r for r in await cache.for_post(app, post["_id"]) if r.get("userId") not in hidden]
    return json_response({"message": "Post reactions", "reactions": reactions, "count": len(reactions)})


@routes.get("/post/single/reaction/username/{username}/{postId}")
@doc("One user's reaction to a post", answer=SingleReactionAnswer, errors=(404,), params={"username": {"type": "string", "minLength": 1, "maxLength": 64}})
async def single_reaction(request: web.Request) -> web.Response:
    me = security.me(request)
    username = username_param(request)
    app = request.app
    post = await access.readable(app, me["userId"], id_param(request, "postId", "post id"))
    reaction = await cache.get(app, cache.reaction_id(post["_id"], username))
    if reaction and reaction.get("userId") in await blocks.hidden_from(app, me["userId"]):
        reaction = None
    return json_response({"message": "Single post reaction by username", "reactions": reaction or {},
                          "count": 1 if reaction else 0})


@routes.get("/post/reactions/username/{username}")
@doc("A user's reactions to posts I may see", answer=UserReactionsAnswer, params={"username": {"type": "string", "minLength": 1, "maxLength": 64}})
async def user_reactions(request: web.Request) -> web.Response:
    """Only reactions to posts the reader may see, by someone not in a block with the reader."""
    me = security.me(request)
    app = request.app
    reactions = await cache.for_user(app, username_param(request))
    post_ids = list(dict.fromkeys(r["postId"] for r in reactions))
    seen = {p["_id"]: p for p in await posts.get_many(app, post_ids)}
    sees = await access.viewer(app, me["userId"])
    hidden = await blocks.hidden_from(app, me["userId"])
    shown = [r for r in reactions
             if r["postId"] in seen and sees(seen[r["postId"]]) and r.get("userId") not in hidden]
    return json_response({"message": "All user reactions by username", "reactions": shown})
