"""Who is calling, checked once per request and per socket: token, session, rate limit.

A token opens requests only while its session lives (mysocial.sessions.cache): sign-out, a
password change or a reset ends sessions, and their tokens are refused at once on the instance
that ended them and within the change message's delivery on the others (mysocial.sessions.local:
this instance's copies of sessions, which spare most requests the session's read). The session's
read, when needed, and the rate limit's, when its lease is spent (mysocial.core.ratelimit), share
one batched round trip; most requests need neither.

The session cookie renews itself: its token is taken even expired (the cookie is signed, and
only a live session opens requests), and once under half of TOKEN_TTL is left the answer sets
a cookie with a new token and the session lives REFRESH_TTL from then. A bearer token is taken
only unexpired; its holder refreshes it with its refresh token (`POST /token/refresh`).
"""
from __future__ import annotations

import time

from aiohttp import web

from mysocial.core import ratelimit, security
from mysocial.core.appkeys import SETTINGS
from mysocial.core.errors import NotAuthorized
from mysocial.core.mongo import is_oid
from mysocial.core.reads import Read, known, read_all
from mysocial.sessions import cache, service
from mysocial.sessions.local import LOCAL

SESSION = web.RequestKey("session", dict)
RENEWED = web.RequestKey("renewed", str)


def claims_of(app: web.Application, token: str | None, cookie: bool = False) -> dict | None:
    """The claims of a well-signed, unexpired token — or, from the session `cookie`, expired
    (None without a token; 401 for a bad one)."""
    return security.read_token(app[SETTINGS], token, expired_ok=cookie) if token else None


def _at_hand(app: web.Application, claims: dict) -> dict | None | Read:
    """The session of `claims` when it needs no command (this instance's copy; None for a token
    from before sessions), else the `Read` of it from Redis (which copies it)."""
    sid = claims.get("sid")
    if not is_oid(sid):
        return None
    copies = app[LOCAL]
    session = copies.get(sid)
    if session is not None:
        return session
    read, ticket = cache.read(app, sid), copies.reading(sid)

    async def finish(app: web.Application, replies: list) -> dict | None:
        session = await read.finish(app, replies)
        copies.store(sid, ticket, session)
        return session

    return Read(read.queue, read.size, finish)


def session_read(app: web.Application, claims: dict) -> Read:
    """The session of `claims`, as a `Read` (one that sends nothing when it is at hand)."""
    found = _at_hand(app, claims)
    return found if isinstance(found, Read) else known(found)


async def opened(app: web.Application, claims: dict, session: dict | None) -> bool:
    """Whether `session` (read for `claims`) still opens requests; keeps its last use current."""
    now_ms = time.time() * 1000
    if not cache.live(session, claims["userId"], now_ms):
        return False
    if cache.stale(session, now_ms):
        await service.touch(app, session, int(now_ms))
    return True


async def authenticate(app: web.Application, token: str | None, extra: tuple[Read, ...] = (),
                       cookie: bool = False) -> tuple[dict | None, dict | None, list]:
    """(claims, session, the `extra` reads' values) in one round trip; (None, None, …) when the token
    is missing, bad or its session has ended."""
    try:
        claims = claims_of(app, token, cookie)
    except NotAuthorized:
        claims = None
    reads = (*extra, *((session_read(app, claims),) if claims else ()))
    values = await read_all(app, *reads) if reads else []
    if claims is None:
        return None, None, values
    if not await opened(app, claims, values[-1]):
        return None, None, values[:-1]
    return claims, values[-1], values[:-1]


@web.middleware
async def guard(request: web.Request, handler):
    """Authenticate (when a token is present) and charge the rate limit, in one round trip.
    Handlers get the caller from `security.me`, which raises the 401 recorded here."""
    if ratelimit.exempt(request):
        return await handler(request)
    app = request.app
    token = security.token_from(app[SETTINGS], request.cookies, request.headers.get("Authorization"))
    cookie = security.by_cookie(request)
    try:
        claims = claims_of(app, token, cookie)
    except NotAuthorized as exc:
        request[security.AUTH_ERROR] = exc
        claims = None
    limit = ratelimit.for_request(request, claims["userId"] if claims else None)
    charge = ratelimit.count(limit, app[ratelimit.LEASES]) if limit else None
    if charge is not None and not charge.size:  # a lease granted it
        charge = None
    session = _at_hand(app, claims) if claims is not None else None
    fetch = session if isinstance(session, Read) else None
    if charge is not None or fetch is not None:  # most requests send nothing
        values = await read_all(app, *(read for read in (charge, fetch) if read is not None))
        if charge is not None:
            ratelimit.enforce(limit, values[0])
        if fetch is not None:
            session = values[-1]
    if claims is not None:
        if await opened(app, claims, session):
            request[security.CLAIMS] = claims
            request[SESSION] = session
            if cookie and claims["exp"] - time.time() < app[SETTINGS].token_ttl / 2:
                await service.renew(app, session, int(time.time() * 1000))
                request[RENEWED] = security.renewed_token(app[SETTINGS], claims)
        else:
            request[security.AUTH_ERROR] = NotAuthorized(security.INVALID)
    response = await handler(request)
    if RENEWED in request and security.COOKIE not in response.cookies:  # sign-out clears it instead
        security.set_session(response, app[SETTINGS], request[RENEWED])
    return response


def token(request: web.Request) -> str | None:
    """The caller's token (the renewed one, if the cookie's was renewed)."""
    if RENEWED in request:
        return request[RENEWED]
    return security.token_from(request.app[SETTINGS], request.cookies, request.headers.get("Authorization"))


def current(request: web.Request) -> str | None:
    """The id of the caller's session (once `security.me` succeeded)."""
    session = request.get(SESSION)
    return session["_id"] if session else None
