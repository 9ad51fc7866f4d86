"""What the user routes do: lists of users, suggestions, search, password and profile settings."""
from __future__ import annotations

from typing import Callable

from aiohttp import web

from mysocial.auth import cache as auth_cache, service as auth
from mysocial.core import security
from mysocial.core.appkeys import MONGO, SETTINGS
from mysocial.core.errors import BadRequest, NotFound
from mysocial.core.writepath import Change, commit
from mysocial.graph import cache as graph
from mysocial.users import cache, store, views

PAGE_SIZE = 12
SEARCH_LIMIT = 20


def search_card(user: dict) -> dict:
    return {k: user.get(k) for k in ("_id", "profilePicture", "username", "email", "avatarColor")}


async def page(app: web.Application, me: str, number: int) -> tuple[list[dict], int, list[str]]:
    """A page of users (not me, nobody in a block with me), the total, and my followers' ids."""
    ids, total = await cache.page(app, number, PAGE_SIZE, me)
    hidden = await graph.hidden_from(app, me)
    listed = [views.public(u) for u in await cache.get_many(app, [i for i in ids if i not in hidden])]
    return listed, total - len(hidden), await graph.follower_ids(app, me)


async def suggestions(app: web.Application, me: str) -> list[dict]:
    skip = set(await graph.following_ids(app, me)) | {me} | await graph.hidden_from(app, me)
    ids = [i for i in await cache.random_ids(app, 10 + len(skip)) if i not in skip][:10]
    return [views.public(u) for u in await cache.get_many(app, ids)]


async def search(app: web.Application, me: str, query: str) -> list[dict]:
    """Names starting with the query (Redis), then containing it (MongoDB), nobody in a block."""
    ids = await cache.search_prefix(app, query, SEARCH_LIMIT)
    found = await cache.get_many(app, ids)
    seen = set(ids)
    for user in await store.search(app[MONGO], query, SEARCH_LIMIT):
        if user["_id"] not in seen and len(found) < SEARCH_LIMIT:
            seen.add(user["_id"])
            found.append(user)
    hidden = await graph.hidden_of(app, me, (u["_id"] for u in found))
    return [search_card(u) for u in found if u["_id"] not in hidden]


async def change_password(request: web.Request, me: str, current: str, new: str, keep: str | None) -> None:
    app = request.app
    user = await cache.get(app, me)
    found = await auth_cache.get(app, user["authId"]) if user else None
    if not await security.check_password(app[SETTINGS], current, found["password"] if found else None):
        raise BadRequest("Invalid credentials")
    await auth.change_password(request, found, new, keep=keep)


async def update(app: web.Application, me: str, change: Callable[[dict], dict]) -> dict:
    """Apply `change(user) -> changed fields` to my profile through the write path."""
    user = await cache.get(app, me)
    if user is None:
        raise NotFound("User not found")
    fields = change(user)
    if fields:
        await commit(app, lambda pipe: cache.update(pipe, me, fields), [Change("user", me, (cache.key(me),))])
    return {**user, **fields}
