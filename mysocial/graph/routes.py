"""Follow, unfollow, block, unblock, and the following / followers lists."""
from __future__ import annotations

from aiohttp import web

from mysocial.core import pages, security
from mysocial.core.errors import Forbidden
from mysocial.core.http import id_param, json_response
from mysocial.core.openapi import doc
from mysocial.core.pages import CursorQuery
from mysocial.graph import service
from mysocial.graph.schemas import FollowersAnswer, FollowingAnswer

routes = web.RouteTableDef()


@routes.put("/user/follow/{followerId}")
@doc("Follow a user", errors=(404,))
async def follow(request: web.Request) -> web.Response:
    await service.follow(request.app, security.me(request), id_param(request, "followerId", "user id"))
    return json_response({"message": "Following user now"})


@routes.put("/user/unfollow/{followeeId}/{followerId}")
@doc("Stop following a user (followerId is me)", errors=(404,))
async def unfollow(request: web.Request) -> web.Response:
    me = security.me(request)["userId"]
    followee = id_param(request, "followeeId", "user id")
    follower = id_param(request, "followerId", "user id")
    if follower != me:
        raise Forbidden("You can only unfollow for yourself")
    await service.unfollow(request.app, follower, followee)
    return json_response({"message": "Unfollowed user now"})


@routes.get("/user/following")
@doc("Whom I follow", answer=FollowingAnswer)
async def following(request: web.Request) -> web.Response:
    listed = await service.following(request.app, security.me(request)["userId"])
    return json_response({"message": "User following", "following": listed})


@routes.get("/user/followers/{userId}")
@doc("A user's followers (my own list also holds whom I blocked, flagged)", answer=FollowersAnswer, errors=(404,))
async def followers(request: web.Request) -> web.Response:
    me = security.me(request)["userId"]
    listed = await service.followers(request.app, me, id_param(request, "userId", "user id"))
    return json_response({"message": "User followers", "followers": listed})


async def _page(request: web.Request, which: str) -> web.Response:
    me = security.me(request)["userId"]
    at = pages.cursor(request)
    found, ids = await service.page(request.app, me, id_param(request, "userId", "user id"), which, at)
    return json_response({"message": f"User {which}", which: found}, headers=pages.link(request, ids, at))


@routes.get("/accounts/{userId}/followers")
@doc("A user's followers, newest follow first, in cursor pages (Link header)", answer=FollowersAnswer,
     query=CursorQuery, errors=(404,))
async def followers_page(request: web.Request) -> web.Response:
    return await _page(request, "followers")


@routes.get("/accounts/{userId}/following")
@doc("Whom a user follows, newest follow first, in cursor pages (Link header)", answer=FollowingAnswer,
     query=CursorQuery, errors=(404,))
async def following_page(request: web.Request) -> web.Response:
    return await _page(request, "following")


@routes.put("/user/block/{followerId}")
@doc("Block a user (ends follows both ways)", errors=(404,))
async def block(request: web.Request) -> web.Response:
    await service.block(request.app, security.me(request)["userId"], id_param(request, "followerId", "user id"))
    return json_response({"message": "User blocked"})


@routes.put("/user/unblock/{followerId}")
@doc("Unblock a user", errors=(404,))
async def unblock(request: web.Request) -> web.Response:
    await service.unblock(request.app, security.me(request)["userId"], id_param(request, "followerId", "user id"))
    return json_response({"message": "User unblocked"})
