"""Who may see a post, and sending post events to exactly them.

Public: everyone except users in a block with the author (either direction).
Followers: the author and the author's followers, minus blocks. Private: the
author. Reactions and comments inherit their post's audience. Moderation narrows
it: a post taken down is its author's alone, a suspended author's posts are nobody
else's (graph.hidden), a limited author's Public posts reach only followers.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

from aiohttp import web

from mysocial.core import realtime
from mysocial.core.errors import Forbidden, NotFound
from mysocial.core.reads import Read, known, read_all, read_one
from mysocial.graph import cache as graph
from mysocial.posts import cache

NOT_FOUND = "Post not found"


class Authors:
    """Who wrote which post, as far as this process has seen. A post's author never changes, so
    a reaction or a comment can read "is the author limited" in the round trip that reads the
    post instead of in one after it. Bounded: emptied when full (a miss costs that round trip)."""

    SIZE = 65_536

    def __init__(self) -> None:
        self._of: dict[str, str] = {}

    def get(self, post_id: str) -> str | None:
        return self._of.get(post_id)

    def learn(self, post: dict) -> None:
        if len(self._of) >= self.SIZE:
            self._of.clear()
        self._of[post["_id"]] = post["userId"]


AUTHORS = web.AppKey("post_authors", Authors)


@dataclass(frozen=True)
class Audience:
    """`everyone`: all users except `ids`; otherwise exactly `ids`."""

    everyone: bool
    ids: frozenset[str]

    def minus(self, other: "Audience") -> "Audience":
        """Who is in this audience but not in `other` (e.g. who lost sight of an edited post)."""
        if not self.everyone:
            return Audience(False, self.ids & other.ids if other.everyone else self.ids - other.ids)
        if not other.everyone:
            return Audience(True, self.ids | other.ids)
        return Audience(False, other.ids - self.ids)


async def audience(app: web.Application, post: dict, hidden: set[str] | None = None,
                   limited: bool | None = None) -> Audience:
    """`hidden`: who is in a block with the author (graph.blocks), and `limited`: whether the
    author is limited (graph.is_limited), when the caller read them already. Suspended users
    need not be left out: a suspension ends their sessions and sockets (and there may be many)."""
    author = post["userId"]
    if post.get("takenDown"):
        return Audience(False, frozenset({author}))
    if hidden is None:
        hidden = await read_one(app, graph.blocks(author))
    privacy = await _privacy(app, post, limited)
    if privacy == "Public":
        return Audience(True, frozenset(hidden))
    ids = {author}
    if privacy == "Followers":
        ids.update(await graph.follower_ids(app, author))
    return Audience(False, frozenset(ids - hidden))


def reads(author: str) -> list[Read]:
    """What `audience` needs of a post's author, to ride in a write's round trip."""
    return [graph.blocks(author), graph.is_limited(author)]


async def _privacy(app: web.Application, post: dict, limited: bool | None = None) -> str:
    """The privacy the post has for others: Removed while taken down, a limited author's Public as
    Followers."""
    if post.get("takenDown"):
        return "Removed"
    if post.get("privacy") == "Public" and (
            limited if limited is not None else await read_one(app, graph.is_limited(post["userId"]))):
        return "Followers"
    return post.get("privacy", "")


async def emit(app: web.Application, event: str, data, to: Audience) -> None:
    if to.everyone:
        await realtime.emit_except(app, event, data, to.ids)
    else:
        await realtime.emit_to(app, event, data, to.ids)


async def can_see(app: web.Application, reader: str, post: dict) -> bool:
    author = post["userId"]
    if author == reader:
        return True
    if await graph.between(app, reader, author):
        return False
    return await shared_with(app, reader, post)


async def shared_with(app: web.Application, reader: str, post: dict, limited: bool | None = None) -> bool:
    """The privacy half of `can_see`, for a caller that checked blocks itself (and perhaps read
    whether the author is limited)."""
    if post["userId"] == reader:
        return True
    privacy = await _privacy(app, post, limited)
    if privacy == "Public":
        return True
    return privacy == "Followers" and await graph.is_following(app, reader, post["userId"])


async def viewer(app: web.Application, reader: str) -> Callable[[dict], bool]:
    """`can_see` for many posts at once: the reader's blocks and follows are read once."""
    hidden, following, limited = await read_all(app, graph.hidden(reader), graph.following_set(reader),
                                                graph.limited())
    following = set(following)

    def sees(post: dict) -> bool:
        author = post["userId"]
        if author == reader:
            return True
        if author in hidden or post.get("takenDown"):
            return False
        if post.get("privacy") == "Public" and author not in limited:
            return True
        return post.get("privacy") in ("Public", "Followers") and author in following

    return sees


async def readable(app: web.Application, reader: str, post_id: str) -> dict:
    """The post if `reader` may see it; 404 otherwise (whether it exists is not revealed)."""
    post = await cache.get(app, post_id)
    if post is None or not await can_see(app, reader, post):
        raise NotFound(NOT_FOUND)
    return post


async def reachable(app: web.Application, reader: str, post_id: str) -> dict:
    """The post if `reader` may react to or comment on it: 403 across a block, 404 if unseen."""
    return await check_reachable(app, reader, *await read_all(app, *reach_reads(app, reader, post_id)))


def reach_reads(app: web.Application, reader: str, post_id: str) -> list[Read]:
    """What `check_reachable` needs, to read with whatever else a handler needs: the post, whom
    of the reader's `graph.hidden` set it concerns, and whether the author is limited. Once this
    process knows the post's author (who never changes; `check_reachable` learns it), that is
    the author alone if hidden (graph.hidden_among) and the author's limit; before, the reader's
    whole set, and the limit None (read later)."""
    author = app[AUTHORS].get(post_id)
    if author is None:
        return [cache.read(app, post_id), graph.hidden(reader), known(None)]
    return [cache.read(app, post_id), graph.hidden_among(reader, [author]), graph.is_limited(author)]


async def check_reachable(app: web.Application, reader: str, post: dict | None, hidden: set[str],
                          limited: bool | None = None) -> dict:
    """`reachable` for what `reach_reads` read."""
    if post is None:
        raise NotFound(NOT_FOUND)
    app[AUTHORS].learn(post)
    if post["userId"] == reader:
        return post
    if post["userId"] in hidden:
        raise Forbidden("You cannot interact with this post")
    if not await shared_with(app, reader, post, limited):
        raise NotFound(NOT_FOUND)
    return post


async def owned(app: web.Application, me: str, post_id: str) -> dict:
    """My post, for edits: 404 if it does not exist or I cannot see it, 403 if it is someone else's."""
    post = await readable(app, me, post_id)
    if post["userId"] != me:
        raise Forbidden("You can only change your own posts")
    return post


def notice(post: dict, sender: dict, kind: str, item_id: str, message: str, **detail: str) -> dict | None:
    """The notification job for the post's author about `sender`'s reaction or comment (None for oneself)."""
    if post["userId"] == sender["userId"]:
        return None
    return {
        "userTo": post["userId"], "userFrom": sender["userId"], "notificationType": kind, "message": message,
        "entityId": post["_id"], "createdItemId": item_id, "comment": detail.get("comment", ""),
        "reaction": detail.get("reaction", ""), "post": post.get("post", ""), "imgId": post.get("imgId", ""),
        "imgVersion": post.get("imgVersion", ""), "gifUrl": post.get("gifUrl", ""),
    }
