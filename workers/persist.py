"""The one persist job: store a document's current cached state, version-guarded."""
from __future__ import annotations

import logging
from typing import Callable

import redis

from mysocial.core.writepath import CLEAR_LUA, PENDING, PENDING_SINCE
from workers import context

log = logging.getLogger("mysocial.persist")

Load = Callable[[redis.Redis, str], dict | None]
Save = Callable[[object, str, dict | None, int], bool]


def persist(kind: str, doc_id: str, load: Load, save: Save, keys: tuple[str, ...] = ()) -> str:
    """Read the ledger version, then the cached state, store it, clear the ledger entry.

    The version is read before the state, so the stored state is never older
    than its version says; a stale job is refused by the guard in MongoDB.
    """
    ctx = context.get()
    member = f"{kind}:{doc_id}"
    raw = ctx.redis.hget(PENDING, member)
    if raw is None:
        return "clean"
    version = int(raw)
    stored = save(ctx.db, doc_id, load(ctx.redis, doc_id), version)
    ctx.redis.eval(CLEAR_LUA, 2 + len(keys), PENDING, PENDING_SINCE, *keys, member, raw, ctx.settings.cache_ttl)
    return "stored" if stored else "stale"
