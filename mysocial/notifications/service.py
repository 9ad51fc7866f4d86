"""What the notification routes do (the worker creates them: workers.notifications)."""
from __future__ import annotations

from aiohttp import web

from mysocial.core import pages, realtime
from mysocial.core.errors import NotFound
from mysocial.core.writepath import Change, commit
from mysocial.graph import cache as graph
from mysocial.notifications import cache
from mysocial.users import cache as users

NOT_FOUND = "Notification not found"


async def listing(app: web.Application, user_id: str, ids: list[str] | None = None) -> list[dict]:
    """The recipient's notifications in wire form (what GET /notifications answers and
    `insert notification` carries): the newest, or those of `ids`."""
    ids = await cache.ids(app, user_id) if ids is None else ids
    docs = await cache.get_many(app, ids)
    hidden = await graph.hidden_of(app, user_id, (d.get("userFrom") for d in docs))
    docs = [d for d in docs if d.get("userFrom") not in hidden]
    senders = {u["_id"]: u for u in await users.get_many(app, dict.fromkeys(d["userFrom"] for d in docs))}
    return cache.present(docs, senders)


async def page(app: web.Application, user_id: str, at: pages.Cursor) -> tuple[list[dict], list[str]]:
    """A cursor page of the recipient's notifications, and the ids it spans (for the Link header)."""
    ids = await pages.ids(app, cache.index_key(user_id), cache.index(user_id), at)
    return await listing(app, user_id, ids), ids


async def _mine(app: web.Application, me: str, notification_id: str) -> None:
    if not await cache.contains(app, me, notification_id):
        raise NotFound(NOT_FOUND)


async def mark_read(app: web.Application, me: str, notification_id: str) -> None:
    await _mine(app, me, notification_id)
    [result] = await commit(app, lambda pipe: cache.mark_read(pipe, me, notification_id),
                            [Change("notification", notification_id, (cache.key(notification_id),))])
    if result != 1:
        raise NotFound(NOT_FOUND)
    await realtime.emit_to(app, "update notification", notification_id, [me])


async def delete(app: web.Application, me: str, notification_id: str) -> None:
    await _mine(app, me, notification_id)
    [removed] = await commit(app, lambda pipe: cache.remove(pipe, me, notification_id),
                             [Change("notification", notification_id, deleted=True)])
    if removed is None:
        raise NotFound(NOT_FOUND)
    await realtime.emit_to(app, "delete notification", notification_id, [me])
