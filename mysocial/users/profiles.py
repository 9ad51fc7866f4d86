"""The one rule for reading someone's profile (by id, with their posts, followers or images):
404 `User not found` when there is no such user or a block stands between reader and owner,
else the document as the reader may see it (mysocial.users.views)."""
from __future__ import annotations

from aiohttp import web

from mysocial.graph import cache as graph
from mysocial.core.errors import NotFound
from mysocial.core.reads import read_all
from mysocial.users import cache, views


async def visible(app: web.Application, reader: str, user_id: str) -> dict:
    """The whole document (for projecting further, e.g. posts' authors), after the rule held."""
    if user_id == reader:
        return await cache.require(app, user_id)
    user, blocked = await read_all(app, cache.read(app, user_id), graph.blocked_between(reader, user_id))
    if user is None or blocked:
        raise NotFound("User not found")
    return user


async def profile(app: web.Application, reader: str, user_id: str) -> dict:
    """`visible`, projected for the reader."""
    return views.for_reader(await visible(app, reader, user_id), reader)
