"""What the graph routes do: follow, unfollow, block, unblock, and the lists of followers."""
from __future__ import annotations

import time

from aiohttp import web

import queues
from mysocial.core import pages, realtime
from mysocial.core.errors import BadRequest, Forbidden, NotFound
from mysocial.core.functions import Refused
from mysocial.core.mongo import edge_id
from mysocial.core.reads import read_all
from mysocial.core.writepath import Change, commit
from mysocial.graph import cache
from mysocial.timelines import cache as timelines
from mysocial.users import cache as users, profiles, views

NOT_FOUND = "User not found"


def card(user: dict) -> dict:
    """The contract's follower entry."""
    return {
        "_id": user["_id"], "username": user.get("username"), "avatarColor": user.get("avatarColor"),
        "postCount": user.get("postsCount", 0), "followersCount": user.get("followersCount", 0),
        "followingCount": user.get("followingCount", 0), "profilePicture": user.get("profilePicture"),
        "uId": user.get("uId"), "userProfile": views.public(user),
    }


async def _between(app: web.Application, me: str, other: str, yourself: str) -> None:
    """400 (`yourself`) if the users are one, 404 unless both exist; then their follow and block
    indexes are made complete (the graph functions decide by them)."""
    if other == me:
        raise BadRequest(yourself)
    if any(user is None for user in await read_all(app, users.card(app, me), users.card(app, other))):
        raise NotFound(NOT_FOUND)
    await cache.ready(app, me, other)


def _users(*user_ids: str) -> list[Change]:
    """The users whose counters (and block lists) a graph write changes."""
    return [Change("user", u, (users.key(u),)) for u in user_ids]


def _result(value):
    """A graph write's answer; a refusal left over (a user gone meanwhile, or suspended) is a 404."""
    if isinstance(value, Refused):
        if value.reason == "blocked":
            return value
        raise NotFound(NOT_FOUND)
    return value


async def _emit_card(app: web.Application, event: str, user_id: str, a: str, b: str) -> None:
    """`event` with the card of `user_id` (current counts) to users a and b."""
    user = await users.get(app, user_id)
    if user is not None:
        await realtime.emit_to(app, event, card(user), [a, b])


async def follow(app: web.Application, me: dict, target: str) -> None:
    mine = me["userId"]
    await _between(app, mine, target, "You cannot follow yourself")
    at_ms = time.time() * 1000
    notice = {
        "userTo": target, "userFrom": mine, "notificationType": "follows",
        "message": f"{me['username']} is now following you.", "entityId": mine, "createdItemId": mine,
        "followedAt": at_ms,  # the job notifies only if this request's follow is the one standing
    }
    notice = queues.stamp(notice)
    [result] = await commit(app, lambda pipe: cache.follow(pipe, mine, target, at_ms),
                            [Change("follow", edge_id(mine, target)), *_users(mine, target)],
                            jobs=lambda pipe: (queues.notify(pipe, notice), timelines.followed(pipe, mine, target)))
    if isinstance(_result(result), Refused):
        raise Forbidden("You cannot follow this user")
    if result == 1:
        await _emit_card(app, "add follower", target, mine, target)


async def unfollow(app: web.Application, follower: str, followee: str) -> None:
    await _between(app, follower, followee, "You cannot unfollow yourself")
    [result] = await commit(app, lambda pipe: cache.unfollow(pipe, follower, followee, time.time() * 1000),
                            [Change("follow", edge_id(follower, followee), deleted=True), *_users(follower, followee)],
                            jobs=lambda pipe: timelines.unfollowed(pipe, follower, followee))
    if _result(result) == 1:
        await _emit_card(app, "remove follower", followee, follower, followee)


async def block(app: web.Application, me: str, other: str) -> None:
    await _between(app, me, other, "You cannot block yourself")
    [result] = await commit(
        app, lambda pipe: cache.block(pipe, me, other, time.time() * 1000),
        [Change("block", edge_id(me, other)), *_users(me, other),
         # a follow either way may end; a job for an edge that did not exist stores a tombstone
         Change("follow", edge_id(me, other), deleted=True), Change("follow", edge_id(other, me), deleted=True)],
        jobs=lambda pipe: (timelines.unfollowed(pipe, me, other), timelines.unfollowed(pipe, other, me)))
    result = _result(result)
    if result:
        _, *ended = result
        await realtime.emit_to(app, "blocked user id", {"blockedUser": other, "blockedBy": me}, [me, other])
        for followee, gone in zip((other, me), ended):  # me→other, other→me
            if gone:
                await _emit_card(app, "remove follower", followee, me, other)


async def unblock(app: web.Application, me: str, other: str) -> None:
    await _between(app, me, other, "You cannot block yourself")
    [result] = await commit(app, lambda pipe: cache.unblock(pipe, me, other, time.time() * 1000),
                            [Change("block", edge_id(me, other), deleted=True), *_users(me, other)])
    if _result(result) == 1:
        await realtime.emit_to(app, "unblocked user id", {"blockedUser": other, "blockedBy": me}, [me, other])


async def cards(app: web.Application, ids: list[str], viewer: str) -> list[dict]:
    hidden = await cache.hidden_of(app, viewer, ids)
    return [card(u) for u in await users.get_many(app, [i for i in ids if i not in hidden])]


async def page(app: web.Application, me: str, user_id: str, which: str, at: pages.Cursor) -> tuple[list[dict], list[str]]:
    """A cursor page of a user's followers (`which`: followers) or of whom they follow
    (following), as `me` may see them, and the ids it spans."""
    await profiles.visible(app, me, user_id)
    key = cache.followers_key(user_id) if which == "followers" else cache.following_key(user_id)
    ids = await pages.ids(app, key, cache.follows_index(user_id), at)
    return await cards(app, ids, me), ids


async def following(app: web.Application, me: str) -> list[dict]:
    return await cards(app, await cache.following_ids(app, me), me)


async def followers(app: web.Application, me: str, user_id: str) -> list[dict]:
    """A user's followers as `me` may see them; my own list also keeps whom I block, flagged:
    a block ends follows both ways, so the blocked would vanish from the only page where the
    Chatty web client offers Unblock."""
    await profiles.visible(app, me, user_id)
    ids = await cache.follower_ids(app, user_id)
    listed = await cards(app, ids, me)
    if user_id == me:
        blocked = [i for i in await cache.blocked_by(app, me) if i not in ids]
        listed += [card(u) | {"blocked": True} for u in await users.get_many(app, blocked)]
    return listed
