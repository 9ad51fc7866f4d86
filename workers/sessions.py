from __future__ import annotations

from mysocial.core.redis import from_hash
from mysocial.sessions import cache, store
from workers.persist import persist


def load(r, session_id: str) -> dict | None:
    raw = r.hgetall(cache.key(session_id))
    return from_hash(raw) if raw else None


def persist_session(session_id: str) -> str:
    return persist("session", session_id, load, store.save, (cache.key(session_id),))
