"""Starting, renewing and ending sessions: what sign-in, a refresh, sign-out, a password change
and a reset do."""
from __future__ import annotations

import time

from aiohttp import web

from mysocial.core import realtime
from mysocial.core.appkeys import SETTINGS
from mysocial.core.errors import NotAuthorized
from mysocial.core.functions import Refused
from mysocial.core.reads import read_one
from mysocial.core.security import INVALID
from mysocial.core.writepath import Apply, Change, commit
from mysocial.sessions import cache, local, tokens

MAX_PER_USER = 10  # signing in once more ends the least recently used


def change(session_id: str, ended: bool = False) -> Change:
    return Change("session", session_id, (cache.key(session_id),), deleted=ended)


async def _commit(app: web.Application, write: Apply, changes: list[Change]) -> list:
    """`commit` session changes, then drop this instance's copies of them, even when the commit's
    answer was lost (the change may have landed)."""
    try:
        return await commit(app, write, changes)
    finally:
        for changed in changes:
            local.forget(app, changed.id)


def opened(request: web.Request, user_id: str) -> dict:
    """A new session for `user_id`, from the request's user agent and address (not yet stored:
    `cache.add` it in the sign-in's own commit)."""
    return cache.new(user_id, request.headers.get("User-Agent", ""), request.remote or "",
                     request.app[SETTINGS].refresh_ttl)


async def started(app: web.Application, session: dict) -> None:
    """After `session` was stored: end the user's expired sessions, and the least recently used
    beyond MAX_PER_USER."""
    user_id = session["userId"]
    sessions = await cache.of(app, user_id)
    expired = [s for s in sessions if not cache.live(s, user_id)]
    live = sorted((s for s in sessions if cache.live(s, user_id)), key=lambda s: s.get("lastUsedAt", 0))
    for old in expired + live[:max(0, len(live) - MAX_PER_USER)]:
        if old["_id"] != session["_id"]:
            await end(app, user_id, only=old["_id"])


async def refresh(app: web.Application, token: object) -> tuple[dict, int]:
    """Spend a refresh token: (its session, the generation of the token to hand out). A token of an
    ended session, a forged one, or a spent one outside the grace window answers 401; a spent one
    (correctly signed) also ends its session, the whole token family, on every instance."""
    parsed = tokens.parse(token)
    if parsed is None:
        raise NotAuthorized(INVALID)
    session_id, generation, mac = parsed
    settings = app[SETTINGS]
    session = await read_one(app, cache.read(app, session_id))
    now_ms = int(time.time() * 1000)
    if session is None or not cache.live(session, session.get("userId"), now_ms) \
            or not tokens.genuine(settings, session, generation, mac):
        raise NotAuthorized(INVALID)
    expires = now_ms + settings.refresh_ttl * 1000
    answer = (await _commit(app, lambda pipe: cache.rotate(pipe, session_id, generation, now_ms,
                                                           settings.refresh_grace * 1000, expires),
                            [change(session_id)]))[0]
    if isinstance(answer, Refused):  # ended meanwhile
        raise NotAuthorized(INVALID)
    outcome, current = answer[0].decode(), int(answer[1])
    if outcome == "reused":
        await end(app, session["userId"], only=session_id)
        raise NotAuthorized(INVALID)
    return session, current


async def renew(app: web.Application, session: dict, now_ms: int) -> None:
    """A cookie session's renewal: it lives REFRESH_TTL from now."""
    expires = now_ms + app[SETTINGS].refresh_ttl * 1000
    await _commit(app, lambda pipe: cache.touch(pipe, session, now_ms, expires), [change(session["_id"])])


async def end(app: web.Application, user_id: str, keep: str | None = None, only: str | None = None) -> int:
    """End the user's sessions — `only` that one, or all but `keep` — refusing their tokens (at
    once here, within the change message's delivery elsewhere: mysocial.sessions.local) and
    disconnecting their sockets on every instance. Returns how many ended."""
    sessions = [s for s in await cache.of(app, user_id)
                if s["_id"] != keep and (only is None or s["_id"] == only)]
    if not sessions:
        return 0
    now_ms = time.time() * 1000

    def write(pipe) -> None:
        for session in sessions:
            cache.remove(pipe, session, now_ms)

    await _commit(app, write, [change(s["_id"], ended=True) for s in sessions])
    for session in sessions:
        await realtime.disconnect_room(app, realtime.session_room(session["_id"]))
    return len(sessions)


async def touch(app: web.Application, session: dict, now_ms: int) -> None:
    await _commit(app, lambda pipe: cache.touch(pipe, session, now_ms), [change(session["_id"])])
