"""Sessions in Redis: `session:<id>` hash (the user, when it started, was last used and ends, the
user agent and address it signed in from, and its refresh tokens' salt and generation) and `sessions:<userId>`, the user's sessions by start
time (the index `sessions:<userId>`, see mysocial.core.indexes). Documents like any other:
written through the write path, persisted by a worker, read through from MongoDB after an
eviction; an ended session is removed (and remembered in `gone:session`), so its tokens are
refused. Every change also publishes the session's id (mysocial.sessions.local: the instances'
copies).

`active`: every user by when a session of theirs was last used (ms, moved at most every
TOUCH_EVERY_MS, like `lastUsedAt`): who counts as active (home feeds are kept only for them).
"""
from __future__ import annotations

import secrets
import time

from aiohttp import web
from bson import ObjectId

from mysocial.core import cache, functions, indexes
from mysocial.core.appkeys import MONGO
from mysocial.core.mongo import iso, now_iso
from mysocial.core.reads import Read
from mysocial.sessions import store
from mysocial.sessions.local import CHANNEL

AGENT_MAX = 300
TOUCH_EVERY_MS = 5 * 60 * 1000  # lastUsedAt moves at most this often (a write per request would cost)

SESSION = cache.kind("session", "session:", lambda app, sid: store.find(app[MONGO], sid))
key = SESSION.key
LISTED = indexes.listing("sessions:", "sessions", SESSION.gone, lambda app, user_id: store.entries(app[MONGO], user_id))
of_user = LISTED.key
ACTIVE = "active"


def new(user_id: str, user_agent: str, ip: str, ttl: int) -> dict:
    """A session that ends after `ttl` seconds without use. `refreshSalt` keys its refresh tokens
    (mysocial.sessions.tokens); `refreshGen` is the generation of the one that is current."""
    now_ms = int(time.time() * 1000)
    return {"_id": str(ObjectId()), "userId": user_id, "createdAt": now_iso(), "lastUsedAt": now_ms,
            "expiresAt": now_ms + ttl * 1000, "userAgent": (user_agent or "")[:AGENT_MAX], "ip": ip or "",
            "refreshSalt": secrets.token_urlsafe(24), "refreshGen": 0, "rotatedAt": 0}


def public(session: dict, current: str | None) -> dict:
    """What its owner sees of a session (never the salt)."""
    return {"id": session["_id"], "createdAt": session["createdAt"], "lastUsedAt": iso(session["lastUsedAt"]),
            "userAgent": session.get("userAgent", ""), "ip": session.get("ip", ""),
            "current": session["_id"] == current}


def read(app: web.Application, session_id: str) -> Read:
    """The session, as a `Read` (read through from MongoDB after an eviction)."""
    return cache.doc(SESSION, session_id)


def live(session: dict | None, user_id: str, now_ms: float | None = None) -> bool:
    """Whether `session` still opens requests for `user_id`."""
    now_ms = time.time() * 1000 if now_ms is None else now_ms
    return session is not None and session.get("userId") == user_id and session.get("expiresAt", 0) > now_ms


def stale(session: dict, now_ms: float) -> bool:
    return now_ms - session.get("lastUsedAt", 0) > TOUCH_EVERY_MS


async def of(app: web.Application, user_id: str) -> list[dict]:
    """The user's sessions, newest first."""
    return await cache.get_many(app, SESSION, await LISTED.ids(app, user_id))


def mark_active(pipe, user_id: str, now_ms: float) -> None:
    """The user was active at `now_ms` (never moves back)."""
    pipe.zadd(ACTIVE, {user_id: now_ms}, gt=True)


def add(pipe, session: dict) -> None:
    cache.add(pipe, SESSION, session, cache.ms(session["createdAt"]), [of_user(session["userId"])])
    mark_active(pipe, session["userId"], session["lastUsedAt"])


def touch(pipe, session: dict, now_ms: int, expires_ms: int | None = None) -> None:
    """Used now (and, with `expires_ms`, lives until then: a renewal)."""
    fields = {"lastUsedAt": now_ms} | ({"expiresAt": expires_ms} if expires_ms else {})
    cache.patch(pipe, SESSION, session["_id"], fields)
    mark_active(pipe, session["userId"], now_ms)
    pipe.publish(CHANNEL, session["_id"])


def rotate(pipe, session_id: str, generation: int, now_ms: int, grace_ms: int, expires_ms: int) -> None:
    """Spend the refresh token of `generation` (the library's session_rotate: its result is
    [b'rotated'|b'grace'|b'reused', the generation to answer with])."""
    functions.call(pipe, "session_rotate", [key(session_id)],
                   {"generation": generation, "now": now_ms, "grace_ms": grace_ms, "expires": expires_ms})
    pipe.publish(CHANNEL, session_id)


def remove(pipe, session: dict, now_ms: float) -> None:
    """End it; the result is None if it had ended already."""
    cache.remove(pipe, SESSION, session["_id"], now_ms, of_user(session["userId"]), complete=of_user(session["userId"]))
    pipe.publish(CHANNEL, session["_id"])
