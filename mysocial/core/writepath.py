"""The write path: cache entry, pending ledger and persist job in one Redis transaction.

With the queues on a Redis of their own (QUEUE_REDIS_URL), the persist signal and the write's
jobs go in a second transaction on that Redis, right after the first: a crash between the two
loses those jobs, not the write (the reconciler persists what the ledger holds).

Every change to a persisted document is recorded in the ledger (`pending`: member `<kind>:<id>`
-> version; `pending:since`: when it first became pending). Versions come from the library's
`ledger_mark`: the Redis server's clock in microseconds, forced to grow, so they are monotonic
across API instances and survive a Redis flush. A worker persists the *current* cached state
with the ledger version it read before loading that state, guarded in MongoDB by that version,
and clears the ledger only if no newer write came in meanwhile (`ledger_clear`). Cache keys of
a pending document have no TTL; once persisted they get `cache_ttl`.

A transaction whose functions refuse because a hash is not cached or an index is not complete
(core.functions.Refused) is retried whole once that is fixed: every write function is
idempotent, so what the first attempt did apply is not applied twice.
"""
from __future__ import annotations

import logging
from dataclasses import dataclass

import redis
from typing import Callable, Iterable, Sequence

from aiohttp import web

import queues
from mysocial.core import cache, functions, indexes
from mysocial.core.appkeys import BATCH, JOBS
from mysocial.core.errors import ApiError
from mysocial.core.functions import Refused
from mysocial.core.reads import Read, finish_all

log = logging.getLogger("mysocial.writepath")
PENDING = "pending"
PENDING_SINCE = "pending:since"
PENDING_DELETES = cache.PENDING_DELETES
VERSION = "pending:clock"
ATTEMPTS = 4
BUSY = "Service busy, please try again"


@dataclass(frozen=True)
class Change:
    """One document whose new state must reach MongoDB; `keys` are its cache entries.

    `deleted` says the write removes the document: only then does the worker
    store a tombstone. A document missing from the cache is never taken for a
    delete (a write refused because its entry had been evicted marks the ledger
    too, and must not erase the stored copy).
    """

    kind: str
    id: str
    keys: tuple[str, ...] = ()
    deleted: bool = False

    @property
    def member(self) -> str:
        return f"{self.kind}:{self.id}"


Apply = Callable[[object], None]  # queues commands on a pipeline


def mark(pipe, changes: list[Change]) -> None:
    keys = [PENDING, PENDING_SINCE, VERSION, PENDING_DELETES]
    marked = []
    for change in changes:  # the cache keys are PERSISTed by the function
        marked.append([change.member, change.deleted, len(keys) + 1 if change.keys else 0])
        keys.extend(change.keys)
    functions.call(pipe, "ledger_mark", keys, {"changes": marked})


async def commit(
    app: web.Application,
    apply: Apply | None,
    changes: Iterable[Change],
    *,
    enqueue: bool = True,
    extra: Apply | None = None,
    jobs: Apply | None = None,
    reads: Sequence[Read] = (),
) -> list:
    """Write the cache (`apply`), mark the ledger, add the persist job — all in one MULTI/EXEC.

    `extra` adds further cache commands to the same transaction, `jobs` further jobs (e-mails,
    notifications: only `queues` functions). `reads` ride along after the write and see its
    result, which saves a round trip. Returns the results of the commands `apply` added, in
    order, then the reads' values. A refusal that cannot be fixed (the missing document was
    deleted) stays among the results, as a `Refused`.
    """
    changes = list(changes)
    together = app[JOBS] is app[BATCH]
    persisted = [(change.kind, change.id) for change in changes] if enqueue else []
    for attempt in range(ATTEMPTS):
        results = await _once(app, apply, changes, persisted if together else [], extra,
                              jobs if together else None, reads)
        refused = [r for r in results if isinstance(r, Refused) and r.reason in ("missing", "incomplete")]
        if not refused:
            if not together:
                await _enqueue(app, persisted, jobs)
            return results
        if attempt == ATTEMPTS - 1:
            raise ApiError(BUSY, 503)
        if not await _fix(app, refused):
            return results
    raise AssertionError("unreachable")


async def _fix(app: web.Application, refused: list[Refused]) -> bool:
    """Fill what was missing, complete what was incomplete; False if a missing document is gone."""
    found = True
    for refusal in dict.fromkeys(refused):
        for detail in refusal.detail.split():
            if refusal.reason == "incomplete":
                await indexes.ensure_named(app, detail)
            elif not await cache.fill_key(app, detail):
                found = False
    return found


async def _enqueue(app: web.Application, persisted: list[tuple[str, str]], jobs: Apply | None) -> None:
    """The persist signal and the jobs of a write, on the queues' own Redis."""
    if not persisted and jobs is None:
        return

    def queue(pipe) -> None:
        queues.add_persists(pipe, persisted)
        if jobs is not None:
            jobs(pipe)

    for attempt in range(2):
        try:
            await app[JOBS].transaction(queue)
            return
        except redis.ResponseError as exc:
            if attempt == 0 and functions.missing_library(exc):  # a queues' Redis replaced: no library
                await app[JOBS].load_functions()
                continue
            log.exception("a write's jobs could not be enqueued; the reconciler will persist it")
        except Exception:  # answered all the same: the write is in the cache and the ledger
            log.exception("a write's jobs could not be enqueued; the reconciler will persist it")
        return


async def _once(app, apply, changes, persisted, extra, jobs, reads) -> list:
    sizes: list[int] = []

    def queue(pipe) -> None:
        start = len(pipe.command_stack)
        if apply is not None:
            apply(pipe)
        sizes.append(len(pipe.command_stack) - start)
        if changes:
            mark(pipe, changes)
        queues.add_persists(pipe, persisted)
        if extra is not None:
            extra(pipe)
        if jobs is not None:
            jobs(pipe)
        sizes.append(len(pipe.command_stack) - start)
        for read in reads:
            read.queue(pipe)

    results = await app[BATCH].transaction(queue)
    applied, first_read = sizes
    if not reads:
        return results[:applied]
    return results[:applied] + await finish_all(app, reads, results[first_read:])
