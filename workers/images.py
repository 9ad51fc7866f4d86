from __future__ import annotations

from mysocial.core.redis import from_hash
from mysocial.images import cache, store
from workers.persist import persist


def load(r, image_id: str) -> dict | None:
    raw = r.hgetall(cache.key(image_id))
    return from_hash(raw) if raw else None


def persist_image(image_id: str) -> str:
    return persist("image", image_id, load, store.save, (cache.key(image_id),))
