"""Reports by anyone; the report queue, takedowns, account actions and the audit log for staff."""
from __future__ import annotations

from aiohttp import web

from mysocial.core import pages, security
from mysocial.core.errors import BadRequest
from mysocial.core.http import body, id_param, json_response
from mysocial.core.openapi import doc
from mysocial.moderation import service
from mysocial.moderation.schemas import (STATUSES, AccountActionSchema, ActionAnswer, AuditAnswer, CursorQuery,
                                         ReportAnswer, ReportSchema, ReportsAnswer, ReportsQuery, ReportUpdateSchema,
                                         TakedownSchema)

routes = web.RouteTableDef()
STAFF = (403,)


@routes.post("/reports")
@doc("Report a post, a comment, a user or a message of mine (one open report per target)", body=ReportSchema,
     answer=ReportAnswer, status=201, errors=(404, 409))
async def report(request: web.Request) -> web.Response:
    me = security.me(request)["userId"]
    filed = await service.report(request.app, me, await body(request, ReportSchema))
    return json_response({"message": "Report filed", "report": filed}, status=201)


@routes.get("/admin/reports")
@doc("The report queue, newest first, in cursor pages (Link header)", answer=ReportsAnswer, query=ReportsQuery,
     errors=STAFF)
async def queue(request: web.Request) -> web.Response:
    await service.staff(request)
    status = request.query.get("status", "open")
    if status not in STATUSES:
        raise BadRequest("Invalid status")
    at = pages.cursor(request)
    found = await service.reports(request.app, status, at)
    return json_response({"message": "Reports", "reports": found}, headers=pages.link(request, [r["_id"] for r in found], at))


@routes.put("/admin/reports/{reportId}")
@doc("Assign a report to myself, resolve it or reopen it, with a note", body=ReportUpdateSchema, answer=ReportAnswer,
     errors=(*STAFF, 404, 409))
async def update_report(request: web.Request) -> web.Response:
    actor = await service.staff(request)
    report_id = id_param(request, "reportId", "report id")
    data = await body(request, ReportUpdateSchema)
    changed = await service.update_report(request.app, actor, report_id, data["action"], data.get("note") or "")
    return json_response({"message": "Report updated", "report": changed})


async def _take_down(request: web.Request, target_type: str, down: bool) -> web.Response:
    actor = await service.staff(request)
    target_id = id_param(request, f"{target_type}Id", f"{target_type} id")
    data = await body(request, TakedownSchema) if request.body_exists else {}
    await service.take_down(request.app, actor, target_type, target_id, down, data.get("reason") or "")
    return json_response({"message": f"{target_type.capitalize()} {'taken down' if down else 'restored'}"})


@routes.post("/admin/posts/{postId}/takedown")
@doc("Take a post down: only its author sees it, marked takenDown", body=TakedownSchema, errors=(*STAFF, 404))
async def take_down_post(request: web.Request) -> web.Response:
    return await _take_down(request, "post", True)


@routes.post("/admin/posts/{postId}/restore")
@doc("Restore a post taken down", body=TakedownSchema, errors=(*STAFF, 404))
async def restore_post(request: web.Request) -> web.Response:
    return await _take_down(request, "post", False)


@routes.post("/admin/comments/{commentId}/takedown")
@doc("Take a comment down: only its author sees it, marked takenDown", body=TakedownSchema, errors=(*STAFF, 404))
async def take_down_comment(request: web.Request) -> web.Response:
    return await _take_down(request, "comment", True)


@routes.post("/admin/comments/{commentId}/restore")
@doc("Restore a comment taken down", body=TakedownSchema, errors=(*STAFF, 404))
async def restore_comment(request: web.Request) -> web.Response:
    return await _take_down(request, "comment", False)


@routes.post("/admin/accounts/{userId}/action")
@doc("Warn, limit, freeze, suspend or unsuspend an account (resolving the report named)", body=AccountActionSchema,
     answer=ActionAnswer, errors=(*STAFF, 404))
async def account_action(request: web.Request) -> web.Response:
    actor = await service.staff(request)
    user_id = id_param(request, "userId", "user id")
    data = await body(request, AccountActionSchema)
    done = await service.act(request.app, actor, user_id, data["type"], data.get("reason") or "",
                             data.get("reportId") or None)
    return json_response({"message": "Action taken", **done})


@routes.get("/admin/audit")
@doc("Every staff action, newest first, in cursor pages (Link header)", answer=AuditAnswer, query=CursorQuery,
     errors=STAFF)
async def audit(request: web.Request) -> web.Response:
    await service.staff(request)
    at = pages.cursor(request)
    found = await service.audit(request.app, at)
    return json_response({"message": "Audit log", "audit": found}, headers=pages.link(request, [e["_id"] for e in found], at))
