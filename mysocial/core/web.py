"""Middlewares every route shares: errors in the contract's shape, CORS, security headers."""
from __future__ import annotations

import logging
from urllib.parse import urlsplit

import pymongo.errors
from aiohttp import web

from mysocial.core import security
from mysocial.core.errors import ApiError, Forbidden, error_body
from mysocial.core.http import json_response

log = logging.getLogger("mysocial.web")
UNAVAILABLE = "Service unavailable, please try again"

SECURITY_HEADERS = {
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "no-referrer",
    "Cross-Origin-Resource-Policy": "cross-origin",
    "Content-Security-Policy": "default-src 'none'; frame-ancestors 'none'",
}


@web.middleware
async def errors(request: web.Request, handler):
    try:
        return await handler(request)
    except ApiError as exc:
        return json_response(error_body(exc.message, exc.status), status=exc.status, headers=exc.headers)
    except web.HTTPNotFound:
        return json_response({"message": f"{request.path} not found"}, status=404)
    except web.HTTPException as exc:
        if exc.status < 400:
            raise
        return json_response(error_body(exc.reason, exc.status), status=exc.status)
    except pymongo.errors.ConnectionFailure:
        log.warning("MongoDB unreachable on %s %s", request.method, request.path, exc_info=True)
        return json_response(error_body(UNAVAILABLE, 503), status=503, headers={"Retry-After": "5"})
    except Exception:
        log.exception("unhandled error on %s %s", request.method, request.path)
        return json_response(error_body("Something went wrong", 500), status=500)


def cors(client_url: str):
    """CORS for the one front-end origin, with credentials (cookies)."""
    allowed = {client_url.rstrip("/")}

    @web.middleware
    async def middleware(request: web.Request, handler):
        origin = request.headers.get("Origin")
        if request.method == "OPTIONS" and origin and "Access-Control-Request-Method" in request.headers:
            response = web.Response(status=204 if origin in allowed else 403)
        else:
            try:
                response = await handler(request)
            except web.HTTPException as exc:
                response = exc
        if origin in allowed:
            response.headers["Access-Control-Allow-Origin"] = origin
            response.headers["Access-Control-Allow-Credentials"] = "true"
            response.headers["Vary"] = "Origin"
            if request.method == "OPTIONS":
                response.headers["Access-Control-Allow-Methods"] = "GET, POST, PUT, DELETE, OPTIONS"
                response.headers["Access-Control-Allow-Headers"] = request.headers.get(
                    "Access-Control-Request-Headers", "Content-Type, Authorization"
                )
                response.headers["Access-Control-Max-Age"] = "600"
        return response

    return middleware


STATE_CHANGING = frozenset({"POST", "PUT", "PATCH", "DELETE"})
CROSS_SITE = "Cross-site requests are not allowed"


def _origin_of(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}" if parts.scheme and parts.netloc else "null"


def same_origin(client_url: str):
    """Refuse (403) a state-changing request authenticated by the session cookie unless it comes
    from the client's origin: its `Origin`, or without one its `Referer`, must be CLIENT_URL's.
    A request with neither is no browser's cross-site request (browsers send Origin on every
    cross-origin POST, PUT and DELETE) and passes; bearer-token clients are not concerned.
    GET /signout changes state too (the contract made it a GET) and is checked likewise."""
    allowed = _origin_of(client_url)

    @web.middleware
    async def middleware(request: web.Request, handler):
        changes = request.method in STATE_CHANGING or request.path == "/api/v1/signout"
        if changes and security.by_cookie(request):
            origin = request.headers.get("Origin")
            referer = request.headers.get("Referer")
            claimed = origin if origin is not None else (_origin_of(referer) if referer else None)
            if claimed is not None and claimed != allowed:
                raise Forbidden(CROSS_SITE)
        return await handler(request)

    return middleware


@web.middleware
async def security_headers(request: web.Request, handler):
    response = await handler(request)
    for name, value in SECURITY_HEADERS.items():
        response.headers.setdefault(name, value)
    return response
