"""The OpenAPI 3.1 document, generated from the routes and their marshmallow schemas (apispec),
served at /api/v1/openapi.json; Swagger UI at /api/docs, from files the API serves itself.

A handler says what it takes and answers with `@doc(...)`, under its route decorator. The
errors every route can give are added here by rule: 429 (rate limit) everywhere under /api/v1;
401 where a session is needed; 400, 413 and 415 where a body is read; 400 where a path holds an
id or a number; 403 for a state-changing request (cross-site with the cookie).
"""
from __future__ import annotations

import re
from functools import lru_cache
from pathlib import Path
from typing import Callable

import orjson
from aiohttp import web
from apispec import APISpec
from apispec.ext.marshmallow import MarshmallowPlugin
from marshmallow import Schema

from mysocial.core.answers import ErrorSchema, MessageSchema
from mysocial.core.appkeys import SETTINGS

DOC = "__openapi__"
API = "/api/v1"
DOCS = "/api/docs"
SPEC = f"{API}/openapi.json"
ID_PATTERN = "^[0-9a-f]{24}$"
STATUS_TEXT = {200: "OK", 201: "Created", 400: "Bad input", 401: "No valid session", 403: "Not allowed",
               404: "Not found", 409: "Conflicts with what exists", 413: "Body too large", 415: "Body is not JSON", 429: "Rate limited",
               503: "A store is unreachable"}


def doc(summary: str, *, answer: type[Schema] | None = MessageSchema, status: int = 200, body: type[Schema] | None = None,
        query: type[Schema] | None = None, auth: bool = True, errors: tuple[int, ...] = (), tag: str | None = None,
        text: bool = False, params: dict[str, dict] | None = None) -> Callable:
    """Describe a handler for the OpenAPI document. `errors`: statuses beyond those added by rule;
    `text`: the answer is text/plain (the health routes); `params`: schemas of path parameters
    that are not ids (an id parameter, named `…Id`, is documented as one)."""

    def decorate(handler):
        setattr(handler, DOC, {"summary": summary, "answer": answer, "status": status, "body": body, "query": query,
                               "auth": auth, "errors": errors, "tag": tag, "text": text, "params": params or {}})
        return handler

    return decorate


def _param_schema(name: str, given: dict) -> dict:
    if name in given:
        return given[name]
    if name.endswith("Id") and name not in ("bgImageId",):
        return {"type": "string", "pattern": ID_PATTERN}
    if name in ("page", "num"):
        return {"type": "string", "pattern": "^[0-9]+$"}
    return {"type": "string", "minLength": 1}


def _tag(handler, meta: dict) -> str:
    """The feature the handler belongs to (its package; `metrics`, `media` for core's)."""
    if meta["tag"]:
        return meta["tag"]
    package, module = handler.__module__.split(".")[-2:]
    return module if package == "core" else package


def build(app: web.Application) -> dict:
    settings = app[SETTINGS]
    spec = APISpec(
        title="MySocial", version="1.0.0", openapi_version="3.1.0", plugins=[MarshmallowPlugin()],
        info={"description": DESCRIPTION}, servers=[{"url": settings.api_url}],
    )
    spec.components.security_scheme("bearer", {"type": "http", "scheme": "bearer", "bearerFormat": "JWT"})
    spec.components.security_scheme("cookie", {"type": "apiKey", "in": "cookie", "name": "session"})
    spec.components.schema("Error", schema=ErrorSchema)
    error = {"content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}}
    for route in app.router.routes():
        meta = getattr(route.handler, DOC, None)
        if meta is None or route.method == "HEAD":
            continue
        path = route.resource.canonical
        names = re.findall(r"\{(\w+)", path)
        statuses = set(meta["errors"])
        if path.startswith(API):
            statuses.add(429)
        if meta["auth"]:
            statuses.add(401)
        if meta["body"] is not None:
            statuses |= {400, 413, 415}
        if meta["query"] is not None or names:
            statuses.add(400)
        if route.method in ("POST", "PUT", "PATCH", "DELETE"):
            statuses.add(403)
        media = "text/plain" if meta["text"] else "application/json"
        ok = {"description": STATUS_TEXT.get(meta["status"], "OK")}
        if meta["answer"] is not None or meta["text"]:
            ok["content"] = {media: {"schema": {"type": "string"} if meta["text"] else meta["answer"]}}
        operation = {
            "summary": meta["summary"],
            "operationId": f"{route.method.lower()}_{route.handler.__module__.split('.')[-2]}_{route.handler.__name__}",
            "tags": [_tag(route.handler, meta)],
            "parameters": [{"name": n, "in": "path", "required": True, "schema": _param_schema(n, meta["params"])}
                           for n in names],
            "responses": {str(meta["status"]): ok, **{str(s): {"description": STATUS_TEXT[s], **error}
                                                      for s in sorted(statuses)}},
            "security": [{"bearer": []}, {"cookie": []}] if meta["auth"] else [],
        }
        if meta["query"] is not None:
            operation["parameters"].append({"in": "query", "schema": meta["query"]})
        if meta["body"] is not None:
            operation["requestBody"] = {"required": True, "content": {"application/json": {"schema": meta["body"]}}}
        spec.path(path=path, operations={route.method.lower(): operation})
    document = spec.to_dict()
    document["x-socket-events"] = SOCKET_EVENTS
    return document


DESCRIPTION = """The MySocial API: the Chatty back end's routes, bodies and messages, and what
MySocial adds. Authenticate with `Authorization: Bearer <token>` (the `token` of sign-up and
sign-in) or the `session` cookie. Errors are `{message, statusCode, status: "error"}`.
Socket.IO events are listed under `x-socket-events`: connect to the API's origin with
`transports: ['websocket']` and the cookie, or `auth: {token}`."""

SOCKET_EVENTS = {
    "description": "Socket.IO (path /socket.io/). A connection with a live session joins the rooms of its user and "
                   "its session; one without is a guest that receives nothing. Events reach only the users allowed "
                   "to see them.",
    "clientToServer": {
        "setup": "{userId: username} once signed in: answered with `user online`; a guest socket (or one of "
                 "another user) is disconnected so that the client reconnects with its current cookie",
        "typing": "{receiverId, isTyping}: relayed to the receiver as `typing` {senderId, senderName, isTyping}",
        "join room, reaction, comment, unfollow user, block user, unblock user": "accepted and ignored (the server "
                                                                                 "emits the real events)",
    },
    "serverToClient": {
        "user online": "usernames online (list)",
        "add post": "a post (PostDoc)", "update post": "a post (PostDoc)", "delete post": "a post id",
        "update like": "{postId, userTo, username, type, previousReaction, postReactions, profilePicture, avatarColor}",
        "update comment": "a comment with commentsCount (or {_id, postId, commentsCount, deleted: true})",
        "add follower": "a FollowerCard", "remove follower": "a FollowerCard",
        "blocked user id": "{blockedUser, blockedBy}", "unblocked user id": "{blockedUser, blockedBy}",
        "insert notification": "[the recipient's notifications, {userTo}]",
        "update notification": "a notification id", "delete notification": "a notification id",
        "update user": "a user (the whole document to its owner, the public projection to others)",
        "delete image": "an image id",
        "message received": "a message (MessageDoc)", "chat list": "a message with unreadCount",
        "message read": "a message", "message reaction": "a message", "add chat users": "[{userOne, userTwo}]",
        "typing": "{senderId, senderName, isTyping}",
    },
}


@lru_cache(maxsize=1)
def _swagger_dir() -> Path:
    import swagger_ui_bundle

    return Path(swagger_ui_bundle.swagger_ui_path)


DOCS_PAGE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>MySocial API</title>
<link rel="stylesheet" href="{docs}/static/swagger-ui.css"></head>
<body><div id="docs"></div>
<script src="{docs}/static/swagger-ui-bundle.js"></script>
<script src="{docs}/start.js"></script></body></html>"""
START = """window.ui = SwaggerUIBundle({url: "%s", dom_id: "#docs", deepLinking: true});"""
DOCS_CSP = "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; frame-ancestors 'none'"


def attach(app: web.Application) -> None:
    """GET /api/v1/openapi.json and the docs page, whose assets are served here (no CDN)."""
    document: dict = {}

    async def spec(request: web.Request) -> web.Response:
        if not document:
            document.update(build(request.app))
        return web.Response(body=orjson.dumps(document), content_type="application/json")

    async def page(request: web.Request) -> web.Response:
        return web.Response(text=DOCS_PAGE.format(docs=DOCS), content_type="text/html",
                            headers={"Content-Security-Policy": DOCS_CSP})

    async def start(request: web.Request) -> web.Response:
        return web.Response(text=START % SPEC, content_type="application/javascript")

    app.router.add_get(SPEC, spec)
    app.router.add_get(DOCS, page)
    app.router.add_get(f"{DOCS}/start.js", start)
    app.router.add_static(f"{DOCS}/static/", _swagger_dir(), show_index=False, follow_symlinks=False)
