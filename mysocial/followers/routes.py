"""Follow, unfollow, and the following / followers lists."""
from __future__ import annotations

import time

from aiohttp import web

import queues
from mysocial.core.openapi import doc
from mysocial.followers.schemas import FollowersAnswer, FollowingAnswer
from mysocial.blocks import cache as blocks
from mysocial.core import realtime, security
from mysocial.core.appkeys import BATCH
from mysocial.core.errors import BadRequest, Forbidden, NotFound
from mysocial.core.http import json_response, id_param
from mysocial.core.mongo import edge_id
from mysocial.core.writepath import Change, commit_ready
from mysocial.followers import cache
from mysocial.users import cache as users, profiles, views

routes = web.RouteTableDef()


def card(user: dict) -> dict:
    """The contract's follower entry."""
    return {
        "_id": user["_id"], "username": user.get("username"), "avatarColor": user.get("avatarColor"),
        "postCount": user.get("postsCount", 0), "followersCount": user.get("followersCount", 0),
        "followingCount": user.get("followingCount", 0), "profilePicture": user.get("profilePicture"),
        "uId": user.get("uId"), "userProfile": views.public(user),
    }


async def two_users(app: web.Application, me: str, other: str) -> None:
    """404 unless both users exist; also fills their hashes for the counter scripts."""
    for user_id in (me, other):
        if await users.get(app, user_id) is None:
            raise NotFound("User not found")


async def pair_write(app: web.Application, a: str, b: str, apply, changes, extra=None) -> list:
    """Commit a write that changes the edges and counters of users a and b in one script."""

    async def prepare() -> None:
        await two_users(app, a, b)
        await cache.ready(app, a, b)
        await blocks.ready(app)

    return await commit_ready(app[BATCH], prepare, apply, changes, extra=extra)


def user_changes(*user_ids: str) -> list[Change]:
    return [Change("user", u, (users.key(u),)) for u in user_ids]


async def emit_to_pair(app: web.Application, event: str, user_id: str, a: str, b: str) -> None:
    """`event` with the card of `user_id` (current counts) to users a and b."""
    user = await users.get(app, user_id)
    if user is not None:
        await realtime.emit_to(app, event, card(user), [a, b])


@routes.put("/user/follow/{followerId}")
@doc("Follow a user", errors=(404,))
async def follow(request: web.Request) -> web.Response:
    me = security.me(request)
    target = id_param(request, "followerId", "user id")
    if target == me["userId"]:
        raise BadRequest("You cannot follow yourself")
    app, mine = request.app, me["userId"]
    await two_users(app, mine, target)
    if await blocks.between(app, mine, target):
        raise Forbidden("You cannot follow this user")
    if await cache.is_following(app, mine, target):
        return json_response({"message": "Following user now"})
    at_ms = time.time() * 1000
    notice = {
        "userTo": target, "userFrom": mine, "notificationType": "follows",
        "message": f"{me['username']} is now following you.", "entityId": mine, "createdItemId": mine,
        "followedAt": at_ms,  # the job notifies only if this request's follow is the one standing
    }
    [result] = await pair_write(
        app, mine, target,
        lambda pipe: cache.start_following(pipe, mine, target, at_ms, blocks.guard_keys(mine, target)),
        [Change("follow", edge_id(mine, target)), *user_changes(mine, target)],
        extra=lambda pipe: queues.notify(pipe, notice),
    )
    if result == cache.BLOCKED:
        raise Forbidden("You cannot follow this user")
    if result == cache.CHANGED:
        await emit_to_pair(app, "add follower", target, mine, target)
    return json_response({"message": "Following user now"})


@routes.put("/user/unfollow/{followeeId}/{followerId}")
@doc("Stop following a user (followerId is me)", errors=(404,))
async def unfollow(request: web.Request) -> web.Response:
    me = security.me(request)
    followee = id_param(request, "followeeId", "user id")
    follower = id_param(request, "followerId", "user id")
    if follower != me["userId"]:
        raise Forbidden("You can only unfollow for yourself")
    if followee == follower:
        raise BadRequest("You cannot unfollow yourself")
    app = request.app
    await two_users(app, follower, followee)
    if not await cache.is_following(app, follower, followee):
        return json_response({"message": "Unfollowed user now"})
    [result] = await pair_write(
        app, follower, followee,
        lambda pipe: cache.stop_following(pipe, follower, followee),
        [Change("follow", edge_id(follower, followee), deleted=True), *user_changes(follower, followee)],
    )
    if result == cache.CHANGED:
        await emit_to_pair(app, "remove follower", followee, follower, followee)
    return json_response({"message": "Unfollowed user now"})


async def cards(app: web.Application, ids: list[str], viewer: str) -> list[dict]:
    hidden = await blocks.hidden_from(app, viewer)
    return [card(u) for u in await users.get_many(app, [i for i in ids if i not in hidden])]


@routes.get("/user/following")
@doc("Whom I follow", answer=FollowingAnswer)
async def following(request: web.Request) -> web.Response:
    me = security.me(request)["userId"]
    ids = await cache.following_ids(request.app, me)
    return json_response({"message": "User following", "following": await cards(request.app, ids, me)})


@routes.get("/user/followers/{userId}")
@doc("A user's followers (my own list also holds whom I blocked, flagged)", answer=FollowersAnswer, errors=(404,))
async def followers(request: web.Request) -> web.Response:
    me = security.me(request)["userId"]
    user_id = id_param(request, "userId", "user id")
    app = request.app
    await profiles.visible(app, me, user_id)
    ids = await cache.follower_ids(app, user_id)
    listed = await cards(app, ids, me)
    if user_id == me:
        # A block ends follows both ways, so the blocked would vanish from this page, the only one
        # where the Chatty web client offers Unblock: the owner's own list keeps them, flagged.
        blocked = [i for i in await blocks.blocked_by(app, me) if i not in ids]
        listed += [card(u) | {"blocked": True} for u in await users.get_many(app, blocked)]
    return json_response({"message": "User followers", "followers": listed})
