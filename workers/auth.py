from __future__ import annotations

from mysocial.auth import cache, store
from mysocial.core.redis import from_hash
from workers.persist import persist


def load(r, auth_id: str) -> dict | None:
    raw = r.hgetall(cache.key(auth_id))
    return from_hash(raw) if raw else None


def persist_auth(auth_id: str) -> str:
    return persist("auth", auth_id, load, store.save, (cache.key(auth_id),))
