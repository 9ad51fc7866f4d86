from __future__ import annotations

from mysocial.core.redis import from_hash
from mysocial.posts import cache, store
from workers.persist import persist


def load(r, post_id: str) -> dict | None:
    raw = r.hgetall(cache.key(post_id))
    return cache.unflatten(from_hash(raw)) if raw else None


def persist_post(post_id: str) -> str:
    return persist("post", post_id, load, store.save, (cache.key(post_id),))
