"""Rate limits in Redis: a fixed one-minute window per user (or IP), stricter on auth routes.

A count is one Lua call (INCR, EXPIRE on the first hit) that rides in the request's first
batched round trip (mysocial.sessions.guard); over the limit the answer is 429 in the
contract's error shape with `Retry-After`. Sockets are limited per address the same way.
"""
from __future__ import annotations

import time
from dataclasses import dataclass

from aiohttp import web

from mysocial.core import functions
from mysocial.core.appkeys import SETTINGS
from mysocial.core.errors import ApiError
from mysocial.core.reads import Read, plain

WINDOW = 60
STRICT = frozenset({"/api/v1/signin", "/api/v1/signup", "/api/v1/forgot-password", "/api/v1/token/refresh"})
STRICT_PREFIXES = ("/api/v1/reset-password/",)
EXEMPT_PREFIXES = ("/health", "/metrics", "/socket.io", "/media/")
MESSAGE = "Too many requests. Please try again later."



@dataclass(frozen=True)
class Limit:
    key: str
    limit: int
    window: int  # the window's number (unix time // WINDOW)


def exempt(request: web.Request) -> bool:
    return request.path.startswith(EXEMPT_PREFIXES) or request.method == "OPTIONS"


def for_request(request: web.Request, user_id: str | None) -> Limit | None:
    """The counter this request is charged to: the strict per-address bucket for sign-in, sign-up,
    forgot- and reset-password posts, else the caller's (or its address's); None when off."""
    settings = request.app[SETTINGS]
    path = request.path
    if request.method == "POST" and (path in STRICT or path.startswith(STRICT_PREFIXES)):
        return limit("auth", f"ip:{request.remote}", settings.auth_rate_limit)
    return limit("api", f"user:{user_id}" if user_id else f"ip:{request.remote}", settings.rate_limit)


def limit(bucket: str, who: str, per_minute: int) -> Limit | None:
    if per_minute <= 0:
        return None
    window = int(time.time() // WINDOW)
    return Limit(f"ratelimit:{bucket}:{who}:{window}", per_minute, window)


def count(limit: Limit) -> Read:
    """Charge one to the counter, as a `Read` whose value is the new count."""
    # One call (the library's ratelimit_count) instead of INCR + EXPIRE NX: a single command costs
    # the API about half the CPU of two, and this runs on every request.
    return plain(lambda pipe: functions.call(pipe, "ratelimit_count", [limit.key], {"window": WINDOW + 1}), 1,
                 lambda replies: int(replies[0]))


def over(limit: Limit, n: int) -> bool:
    return n > limit.limit


def enforce(limit: Limit, n: int) -> None:
    """429 with Retry-After when `n` is over the limit."""
    if over(limit, n):
        retry_after = max(1, int((limit.window + 1) * WINDOW - time.time()) + 1)
        raise ApiError(MESSAGE, 429, headers={"Retry-After": str(retry_after)})
