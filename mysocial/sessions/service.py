"""Starting and ending sessions: what sign-in, sign-out, a password change and a reset do."""
from __future__ import annotations

import time

from aiohttp import web

from mysocial.core import realtime
from mysocial.core.appkeys import SETTINGS
from mysocial.core.writepath import Change, commit
from mysocial.sessions import cache


def change(session_id: str, ended: bool = False) -> Change:
    return Change("session", session_id, (cache.key(session_id),), deleted=ended)


def opened(request: web.Request, user_id: str) -> dict:
    """A new session for `user_id`, from the request's user agent and address (not yet stored:
    `cache.add` it in the sign-in's own commit)."""
    return cache.new(user_id, request.headers.get("User-Agent", ""), request.remote or "",
                     request.app[SETTINGS].token_ttl)


async def end(app: web.Application, user_id: str, keep: str | None = None, only: str | None = None) -> int:
    """End the user's sessions — `only` that one, or all but `keep` — refusing their tokens at
    once and disconnecting their sockets on every instance. Returns how many ended."""
    sessions = [s for s in await cache.of(app, user_id)
                if s["_id"] != keep and (only is None or s["_id"] == only)]
    if not sessions:
        return 0
    now_ms = time.time() * 1000

    def write(pipe) -> None:
        for session in sessions:
            cache.remove(pipe, session, now_ms)

    await commit(app, write, [change(s["_id"], ended=True) for s in sessions])
    for session in sessions:
        await realtime.disconnect_room(app, realtime.session_room(session["_id"]))
    return len(sessions)


async def touch(app: web.Application, session: dict, now_ms: int) -> None:
    await commit(app, lambda pipe: cache.touch(pipe, session, now_ms), [change(session["_id"])])
