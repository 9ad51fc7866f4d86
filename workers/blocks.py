from __future__ import annotations

from mysocial.blocks import cache, store
from workers.persist import persist


def persist_block(edge: str) -> str:
    """Store the block `<blockerId>-<blockedId>` as it is now in Redis (absent: tombstone)."""
    return persist("block", edge, cache.load_edge, store.save)
