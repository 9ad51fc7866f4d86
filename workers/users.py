from __future__ import annotations

from mysocial.core.redis import from_hash
from mysocial.users import cache, store
from workers.persist import persist


def load(r, user_id: str) -> dict | None:
    raw = r.hgetall(cache.key(user_id))
    return from_hash(raw) if raw else None


def persist_user(user_id: str) -> str:
    return persist("user", user_id, load, store.save, (cache.key(user_id),))
