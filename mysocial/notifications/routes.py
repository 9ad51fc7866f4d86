"""A user's notifications: list, mark as read, delete (created by the notification job)."""
from __future__ import annotations

from aiohttp import web

from mysocial.core.openapi import doc
from mysocial.notifications.schemas import NotificationsAnswer
from mysocial.blocks import cache as blocks
from mysocial.core import realtime, security
from mysocial.core.appkeys import BATCH
from mysocial.core.errors import NotFound
from mysocial.core.http import json_response, id_param
from mysocial.core.writepath import Change, commit, commit_ready
from mysocial.notifications import cache
from mysocial.users import cache as users

NOT_FOUND = "Notification not found"
routes = web.RouteTableDef()


@routes.get("/notifications")
@doc("My notifications, newest first", answer=NotificationsAnswer)
async def notifications(request: web.Request) -> web.Response:
    me = security.me(request)["userId"]
    app = request.app
    hidden = await blocks.hidden_from(app, me)
    docs = [d for d in await cache.get_many(app, await cache.ids(app, me)) if d.get("userFrom") not in hidden]
    senders = {u["_id"]: u for u in await users.get_many(app, dict.fromkeys(d["userFrom"] for d in docs))}
    return json_response({"message": "User notifications", "notifications": cache.present(docs, senders)})


async def mine(request: web.Request) -> tuple[str, str]:
    """(me, notification id); 404 unless the notification is one of mine."""
    me = security.me(request)["userId"]
    notification_id = id_param(request, "notificationId", "notification id")
    if not await cache.contains(request.app, me, notification_id):
        raise NotFound(NOT_FOUND)
    return me, notification_id


@routes.put("/notification/{notificationId}")
@doc("Mark one of my notifications as read", errors=(404,))
async def mark_as_read(request: web.Request) -> web.Response:
    me, notification_id = await mine(request)
    app = request.app

    async def prepare() -> None:
        await cache.get(app, notification_id)

    [result] = await commit_ready(
        app[BATCH], prepare,
        lambda pipe: cache.mark_read(pipe, me, notification_id),
        [Change("notification", notification_id, (cache.key(notification_id),))],
    )
    if result != 1:
        raise NotFound(NOT_FOUND)
    await realtime.emit_to(app, "update notification", notification_id, [me])
    return json_response({"message": "Notification marked as read"})


@routes.delete("/notification/{notificationId}")
@doc("Delete one of my notifications", errors=(404,))
async def delete(request: web.Request) -> web.Response:
    me, notification_id = await mine(request)
    app = request.app
    removed, _ = await commit(
        app[BATCH], lambda pipe: cache.remove(pipe, me, notification_id), [Change("notification", notification_id, deleted=True)]
    )
    if not removed:
        raise NotFound(NOT_FOUND)
    await realtime.emit_to(app, "delete notification", notification_id, [me])
    return json_response({"message": "Notification deleted successfully"})
