from __future__ import annotations

from mysocial.core.redis import from_hash
from mysocial.reactions import cache, store
from workers.persist import persist


def load(r, reaction_id: str) -> dict | None:
    raw = r.hgetall(cache.key(reaction_id))
    return from_hash(raw) if raw else None


def persist_reaction(reaction_id: str) -> str:
    return persist("reaction", reaction_id, load, store.save, (cache.key(reaction_id),))
