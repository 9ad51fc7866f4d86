"""The persist job: store a document's current cached state, version-guarded; or several's."""
from __future__ import annotations

import importlib
import logging
from functools import lru_cache
from typing import Callable

import redis

import queues
from mysocial.core.writepath import CLEAR_LUA, PENDING, PENDING_DELETES, PENDING_SINCE
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
    with ctx.redis.pipeline(transaction=True) as pipe:
        pipe.hget(PENDING, member)
        pipe.sismember(PENDING_DELETES, member)
        raw, deleted = pipe.execute()
    if raw is None:
        return "clean"
    version = int(raw)
    doc = None if deleted else load(ctx.redis, doc_id)
    if doc is None and not deleted:
        log.warning("%s has no cached state and no delete: nothing to store", member)
        outcome = "missing"
    else:
        outcome = "stored" if save(ctx.db, doc_id, doc, version) else "stale"
    ctx.redis.eval(CLEAR_LUA, 3 + len(keys), PENDING, PENDING_SINCE, PENDING_DELETES, *keys, member, raw,
                   ctx.settings.cache_ttl)
    return outcome


@lru_cache(maxsize=None)
def _persist_function(kind: str) -> Callable[[str], str]:
    module, _, name = queues.PERSIST[kind][1].rpartition(".")
    return getattr(importlib.import_module(module), name)


def persist_many(members: list[str]) -> list[str]:
    """The persist job of a write that changed several documents (`<kind>:<id>` each)."""
    outcomes = []
    for member in members:
        kind, _, doc_id = member.partition(":")
        outcomes.append(_persist_function(kind)(doc_id))
    return outcomes
