from __future__ import annotations

from mysocial.followers import cache, store
from workers.persist import persist


def persist_follow(edge: str) -> str:
    """Store the follow edge `<followerId>-<followeeId>` as it is now in Redis (absent: tombstone)."""
    return persist("follow", edge, cache.load_edge, store.save)
