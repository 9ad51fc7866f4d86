from __future__ import annotations

from mysocial.core.redis import from_hash
from mysocial.comments import cache, store
from workers.persist import persist


def load(r, comment_id: str) -> dict | None:
    raw = r.hgetall(cache.key(comment_id))
    return from_hash(raw) if raw else None


def persist_comment(comment_id: str) -> str:
    return persist("comment", comment_id, load, store.save, (cache.key(comment_id),))
