"""Rate limits in Redis: a fixed one-minute window per user (or IP), stricter on auth routes.

A strict count (the auth bucket, sockets, reports) is one Lua call per request (INCR, EXPIRE on
the first hit) that rides in the request's batched round trip (mysocial.sessions.guard). The
general bucket is charged by lease: an instance reserves a slice of a counter's window at once
(`ratelimit_reserve`, INCRBY on the shared counter) and grants from it locally, so most requests
send nothing. One reservation per counter is in flight at a time. Exactness: across all instances no more than the limit is ever granted in a window
(the slices are disjoint parts of it); a caller spread over N instances may be refused up to
(N-1) slices early (a slice is 1/32 of the limit, at least 1: small limits stay exact). Over the
limit the answer is 429 in the contract's error shape with `Retry-After`. Sockets are limited per
address the same way.
"""
from __future__ import annotations

import time
from typing import NamedTuple

from aiohttp import web

from mysocial.core import functions
from mysocial.core.appkeys import SETTINGS
from mysocial.core.errors import ApiError
from mysocial.core.reads import Read, known, plain

WINDOW = 60
STRICT = frozenset({"/api/v1/signin", "/api/v1/signup", "/api/v1/forgot-password", "/api/v1/token/refresh"})
STRICT_PREFIXES = ("/api/v1/reset-password/",)
EXEMPT_PREFIXES = ("/health", "/metrics", "/socket.io", "/media/")
MESSAGE = "Too many requests. Please try again later."
SLICES = 32  # a lease is this share of the limit
RESERVING = 1.0  # seconds a reservation counts as on its way at most
MAX_COUNTERS = 100_000  # leases kept per instance (past it they are given up: fewer granted, never more)


class Limit(NamedTuple):
    key: str
    limit: int
    window: int  # the window's number (unix time // WINDOW)
    lease: int = 1  # how much one reservation takes (1: every request is counted in Redis)


def exempt(request: web.Request) -> bool:
    return request.path.startswith(EXEMPT_PREFIXES) or request.method == "OPTIONS"


def for_request(request: web.Request, user_id: str | None) -> Limit | None:
    """The counter this request is charged to: the strict per-address bucket for sign-in, sign-up,
    forgot- and reset-password posts, else the caller's (or its address's); None when off."""
    settings = request.app[SETTINGS]
    path = request.path
    if request.method == "POST" and (path in STRICT or path.startswith(STRICT_PREFIXES)):
        return limit("auth", f"ip:{request.remote}", settings.auth_rate_limit)
    return limit("api", f"user:{user_id}" if user_id else f"ip:{request.remote}", settings.rate_limit, leased=True)


def limit(bucket: str, who: str, per_minute: int, leased: bool = False) -> Limit | None:
    if per_minute <= 0:
        return None
    window = int(time.time() // WINDOW)
    return Limit(f"ratelimit:{bucket}:{who}:{window}", per_minute, window,
                 max(1, per_minute // SLICES) if leased else 1)


class Leases:
    """What this instance may still grant of each counter's current window.

    One reservation per counter is in flight at a time: requests that find the lease spent while
    one is on its way are counted one by one (a burst that each reserved a slice would reserve
    many times what it spends, and be refused early). A reservation whose answer never came (an
    error) stops counting as on its way after RESERVING seconds."""

    def __init__(self) -> None:
        self._window = -1
        self._left: dict[str, int] = {}
        self._reserving: dict[str, float] = {}  # counter -> when its reservation was sent

    def _now(self, window: int) -> None:
        if window != self._window or len(self._left) + len(self._reserving) > MAX_COUNTERS:
            self._window, self._left, self._reserving = window, {}, {}

    def take(self, limit: Limit) -> bool:
        """One granted from the lease, if it has any left."""
        self._now(limit.window)
        left = self._left.get(limit.key, 0)
        if left <= 0:
            return False
        if left == 1:
            del self._left[limit.key]
        else:
            self._left[limit.key] = left - 1
        return True

    def reserve(self, limit: Limit) -> int:
        """How much the next reservation takes: a slice, or 1 while a slice is on its way."""
        self._now(limit.window)
        now = time.monotonic()
        if now - self._reserving.get(limit.key, -RESERVING) < RESERVING:
            return 1
        self._reserving[limit.key] = now
        return limit.lease

    def add(self, limit: Limit, by: int, total: int) -> bool:
        """A reservation of `by` brought the counter to `total`: keep what is under the limit, and
        take one."""
        granted = min(total, limit.limit) - (total - by)
        if limit.window == self._window and by == limit.lease:
            self._reserving.pop(limit.key, None)
            if granted > 1:
                self._left[limit.key] = self._left.get(limit.key, 0) + granted - 1
        return granted > 0


LEASES = web.AppKey("ratelimit_leases", Leases)
_GRANTED = known(True)


def count(limit: Limit, leases: Leases | None = None) -> Read:
    """Charge one to the counter, as a `Read` whose value says whether it is within the limit (no
    command at all when one of `leases` grants it)."""
    leased = leases is not None and limit.lease > 1
    if leased and leases.take(limit):
        return _GRANTED
    by = leases.reserve(limit) if leased else 1
    answer = (lambda replies: leases.add(limit, by, int(replies[0]))) if leased \
        else (lambda replies: int(replies[0]) <= limit.limit)
    return plain(lambda pipe: functions.call(pipe, "ratelimit_reserve", [limit.key],
                                             {"window": WINDOW + 1, "by": by}), 1, answer)


def enforce(limit: Limit, allowed: bool) -> None:
    """429 with Retry-After unless `allowed`."""
    if not allowed:
        retry_after = max(1, int((limit.window + 1) * WINDOW - time.time()) + 1)
        raise ApiError(MESSAGE, 429, headers={"Retry-After": str(retry_after)})
