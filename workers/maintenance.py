"""Scheduled jobs: the reconciler puts ledger entries that waited too long back in their drain sets."""
from __future__ import annotations

import logging
import time

import redis
from rq.registry import FailedJobRegistry

import queues
from mysocial.core import functions
from mysocial.core.metrics import RECONCILED_KEY
from mysocial.core.writepath import PENDING, PENDING_SINCE
from workers import context

log = logging.getLogger("mysocial.reconcile")
LOCK = "lock:reconcile"


def _enqueue(r, changes: list[tuple[str, str]]) -> None:
    """The persist signals on the queues' own Redis, loading the library there if it lost it."""
    for attempt in range(2):
        try:
            with r.pipeline(transaction=True) as pipe:
                queues.add_persists(pipe, changes)
                pipe.execute()
            return
        except redis.ResponseError as exc:
            if attempt or not functions.missing_library(exc):
                raise
            r.function_load(functions.source(), replace=True)


def reconcile(older_than: int | None = None, batch: int = 1000) -> dict:
    """Put entries pending longer than `older_than` seconds back into their queues' drain sets,
    with a drain job where none is waiting (an enqueue lost, a drain job killed mid-batch).

    Safe on several schedulers at once: one holds a Redis lock while it works.
    """
    ctx = context.get()
    r = ctx.redis
    older_than = ctx.settings.reconcile_after if older_than is None else older_than
    lock = r.lock(LOCK, timeout=300, blocking=False)
    if not lock.acquire(blocking=False):
        log.info("reconcile skipped: another scheduler holds the lock")
        return {"skipped": True}
    try:
        cutoff = int(time.time() * 1000) - older_than * 1000
        cache = ctx.cache  # the ledger's Redis (ctx.redis itself when it is one Redis)
        members = [m.decode() for m in cache.zrangebyscore(PENDING_SINCE, "-inf", cutoff, start=0, num=batch)]
        now_ms = int(time.time() * 1000)
        changes = [tuple(member.partition(":")[::2]) for member in members]
        changes = [(kind, doc_id) for kind, doc_id in changes if kind in queues.PERSIST]
        requeued = len(changes)
        with cache.pipeline(transaction=True) as pipe:
            for kind, doc_id in changes:
                pipe.zadd(PENDING_SINCE, {f"{kind}:{doc_id}": now_ms}, xx=True)
            pipe.incrby(RECONCILED_KEY, requeued)
            if cache is r:
                queues.add_persists(pipe, changes)
            pipe.execute()
        if cache is not r:
            _enqueue(r, changes)
        failed = sum(FailedJobRegistry(name, connection=r).count for name in queues.QUEUES)
        report = {"pending": cache.hlen(PENDING), "requeued": requeued, "failed": failed}
        log.info("reconcile: %s", report)
        return report
    finally:
        lock.release()

