"""Block and unblock a user."""
from __future__ import annotations

from aiohttp import web

from mysocial.core.openapi import doc
from mysocial.blocks import cache
from mysocial.core import realtime, security
from mysocial.core.errors import BadRequest
from mysocial.core.http import json_response, id_param
from mysocial.core.mongo import edge_id
from mysocial.core.writepath import Change
from mysocial.followers.routes import emit_to_pair, pair_write, two_users, user_changes

routes = web.RouteTableDef()


async def parties(request: web.Request) -> tuple[str, str]:
    me = security.me(request)["userId"]
    other = id_param(request, "followerId", "user id")
    if other == me:
        raise BadRequest("You cannot block yourself")
    await two_users(request.app, me, other)
    return me, other


@routes.put("/user/block/{followerId}")
@doc("Block a user (ends follows both ways)", errors=(404,))
async def block(request: web.Request) -> web.Response:
    me, other = await parties(request)
    app = request.app
    if await cache.is_blocking(app, me, other):
        return json_response({"message": "User blocked"})
    [[changed, *ended]] = await pair_write(
        app, me, other,
        lambda pipe: cache.add_block(pipe, me, other),
        [Change("block", edge_id(me, other)), *user_changes(me, other),
         # a follow either way may end; a job for an edge that did not exist stores a tombstone
         Change("follow", edge_id(me, other), deleted=True), Change("follow", edge_id(other, me), deleted=True)],
    )
    if changed:
        await realtime.emit_to(app, "blocked user id", {"blockedUser": other, "blockedBy": me}, [me, other])
        for followee, gone in zip((other, me), ended):  # me→other, other→me
            if gone:
                await emit_to_pair(app, "remove follower", followee, me, other)
    return json_response({"message": "User blocked"})


@routes.put("/user/unblock/{followerId}")
@doc("Unblock a user", errors=(404,))
async def unblock(request: web.Request) -> web.Response:
    me, other = await parties(request)
    app = request.app
    if not await cache.is_blocking(app, me, other):
        return json_response({"message": "User unblocked"})
    [changed] = await pair_write(
        app, me, other,
        lambda pipe: cache.remove_block(pipe, me, other),
        [Change("block", edge_id(me, other), deleted=True), *user_changes(me, other)],
    )
    if changed == 1:
        await realtime.emit_to(app, "unblocked user id", {"blockedUser": other, "blockedBy": me}, [me, other])
    return json_response({"message": "User unblocked"})
