"""A user's sessions (devices): list them, end one, end every other."""
from __future__ import annotations

from aiohttp import web

from mysocial.core import security
from mysocial.core.errors import NotFound
from mysocial.core.http import id_param, json_response
from mysocial.core.openapi import doc
from mysocial.sessions import cache, guard, service
from mysocial.sessions.schemas import EndedAnswer, SessionsAnswer

routes = web.RouteTableDef()
NOT_FOUND = "Session not found"


@routes.get("/sessions")
@doc("My sessions, newest first (at most 10 are kept)", answer=SessionsAnswer)
async def sessions(request: web.Request) -> web.Response:
    me = security.me(request)["userId"]
    current = guard.current(request)
    listed = [cache.public(s, current) for s in await cache.of(request.app, me) if cache.live(s, me)]
    return json_response({"message": "User sessions", "sessions": listed})


@routes.delete("/sessions/{sessionId}")
@doc("End one of my sessions: its tokens are refused and its sockets disconnected", answer=EndedAnswer, errors=(404,))
async def end_one(request: web.Request) -> web.Response:
    me = security.me(request)["userId"]
    ended = await service.end(request.app, me, only=id_param(request, "sessionId", "session id"))
    if not ended:
        raise NotFound(NOT_FOUND)
    return json_response({"message": "Session ended", "ended": ended})


@routes.delete("/sessions")
@doc("End every session of mine but this one", answer=EndedAnswer)
async def end_others(request: web.Request) -> web.Response:
    me = security.me(request)["userId"]
    ended = await service.end(request.app, me, keep=guard.current(request))
    return json_response({"message": "Other sessions ended", "ended": ended})
