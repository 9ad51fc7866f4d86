"""A user's notifications: list, mark as read, delete (created by the notification job)."""
from __future__ import annotations

from aiohttp import web

from mysocial.core import pages, security
from mysocial.core.http import id_param, json_response
from mysocial.core.openapi import doc
from mysocial.core.pages import CursorQuery
from mysocial.notifications import service
from mysocial.notifications.schemas import NotificationsAnswer

routes = web.RouteTableDef()


@routes.get("/notifications")
@doc("My notifications, newest first: the newest 100, or a cursor page (Link header) when a cursor "
     "parameter is given", answer=NotificationsAnswer, query=CursorQuery)
async def notifications(request: web.Request) -> web.Response:
    me = security.me(request)["userId"]
    if not pages.asked(request):
        listed = await service.listing(request.app, me)
        return json_response({"message": "User notifications", "notifications": listed})
    at = pages.cursor(request)
    listed, ids = await service.page(request.app, me, at)
    return json_response({"message": "User notifications", "notifications": listed}, headers=pages.link(request, ids, at))


@routes.put("/notification/{notificationId}")
@doc("Mark one of my notifications as read", errors=(404,))
async def mark_as_read(request: web.Request) -> web.Response:
    me = security.me(request)["userId"]
    await service.mark_read(request.app, me, id_param(request, "notificationId", "notification id"))
    return json_response({"message": "Notification marked as read"})


@routes.delete("/notification/{notificationId}")
@doc("Delete one of my notifications", errors=(404,))
async def delete(request: web.Request) -> web.Response:
    me = security.me(request)["userId"]
    await service.delete(request.app, me, id_param(request, "notificationId", "notification id"))
    return json_response({"message": "Notification deleted successfully"})
