"""The persist jobs: store documents' current cached state in MongoDB, version-guarded, in bulk.

Persistence is coalesced (queues.add_persists): a write adds its documents to its queue's drain
set and enqueues `drain(queue)` only when no drain job is waiting. A drain job takes the set
`BATCH` members at a time and stores each batch with three Redis round trips and one
`bulk_write` per collection, whatever its size. Each kind says here how to read its cached state,
what to store (its store's `upsert`), and which cache keys get their TTL once it is stored.

A member popped by a drain job that then dies is still in the ledger: the reconciler puts it
back. `persist` and `persist_many` are the jobs of earlier versions (still queued at an upgrade).
"""
from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Callable

import redis
from aiohttp import web
from pymongo.errors import ConnectionFailure

import queues
from mysocial.auth import cache as auth, store as auth_store
from mysocial.chat import cache as chat, store as chat_store
from mysocial.comments import cache as comments, store as comments_store
from mysocial.core import functions
from mysocial.core.appkeys import BATCH, JOBS, MONGO, SETTINGS
from mysocial.core.mongo import Upsert, upsert_all
from mysocial.core.reads import Read, plain, read_all
from mysocial.core.redis import from_hash
from mysocial.core.writepath import PENDING, PENDING_DELETES, PENDING_SINCE
from mysocial.graph import cache as graph, store as graph_store
from mysocial.images import cache as images, store as images_store
from mysocial.moderation import cache as moderation, store as moderation_store
from mysocial.notifications import cache as notifications, store as notifications_store
from mysocial.posts import cache as posts, store as posts_store
from mysocial.reactions import cache as reactions, store as reactions_store
from mysocial.sessions import cache as sessions, store as sessions_store
from mysocial.users import cache as users, store as users_store
from workers import context

log = logging.getLogger("mysocial.persist")

Plan = Callable[[object, str, dict | None, int], Upsert | None]  # (db, id, state or None, version)


def hash_state(key: str, convert: Callable[[dict], dict] = lambda doc: doc) -> Read:
    """A document's cached hash as it is (no read-through: the state to store is Redis's)."""
    return plain(lambda pipe: pipe.hgetall(key), 1, lambda replies: convert(from_hash(replies[0])) if replies[0] else None)


@dataclass(frozen=True)
class Persister:
    state: Callable[[str], Read]
    upsert: Plan
    keys: Callable[[str], tuple[str, ...]] = lambda doc_id: ()  # given the cache TTL once stored


def _document(key: Callable[[str], str], upsert: Plan, convert=lambda doc: doc) -> Persister:
    return Persister(lambda doc_id: hash_state(key(doc_id), convert), upsert, lambda doc_id: (key(doc_id),))


PERSISTERS: dict[str, Persister] = {
    "auth": _document(auth.key, auth_store.upsert),
    "user": _document(users.key, users_store.upsert),
    "session": _document(sessions.key, sessions_store.upsert),
    "post": _document(posts.key, posts_store.upsert, posts.unflatten),
    "reaction": _document(reactions.key, reactions_store.upsert),
    "comment": _document(comments.key, comments_store.upsert),
    "image": _document(images.key, images_store.upsert),
    "message": _document(chat.message_key, chat_store.upsert_message),
    "conversation": Persister(lambda doc_id: hash_state(chat.conversation_key(doc_id)), chat_store.upsert_conversation),
    "notification": Persister(notifications.state, notifications_store.upsert, lambda doc_id: (notifications.key(doc_id),)),
    "follow": Persister(graph.follow_state, graph_store.upsert_follow),
    "block": Persister(graph.block_state, graph_store.upsert_block),
    "account": _document(moderation.account_key, moderation_store.upsert_account),
    "report": _document(moderation.report_key, moderation_store.upsert_report),
    "audit": _document(moderation.audit_key, moderation_store.upsert_audit),
}


UNREACHABLE = (ConnectionFailure, redis.ConnectionError)  # nothing can be stored now: the job is retried
BATCH_SIZE = 200  # members per bulk store
MAX_BATCHES = 25  # per drain job: a job stays well inside its timeout; another one takes the rest


async def store_all(app: web.Application, members: list[str]) -> list[str]:
    """Store `members` (`<kind>:<id>`): "stored", "stale" (a newer version is in MongoDB),
    "clean" (nothing pending) or "missing" (pending, but neither cached nor deleted) each.

    Each member's ledger version is read before its cached state, so the stored state is never
    older than its version says; a stale store is refused by the guard in MongoDB, and the
    ledger is cleared only where no newer write came in meanwhile.
    """
    parsed = [member.partition(":")[::2] for member in members]

    def ledger(pipe) -> None:
        for member in members:
            pipe.hget(PENDING, member)
            pipe.sismember(PENDING_DELETES, member)

    marks = await app[BATCH].transaction(ledger)
    outcomes = ["clean"] * len(members)
    pending = [n for n in range(len(members)) if marks[2 * n] is not None]
    reading = [n for n in pending if not marks[2 * n + 1]]
    states = dict(zip(reading, await read_all(app, *(PERSISTERS[parsed[n][0]].state(parsed[n][1]) for n in reading))))
    upserts, planned = [], []
    for n in pending:
        kind, doc_id = parsed[n]
        if n in states and states[n] is None:
            log.warning("%s has no cached state and no delete: nothing to store", members[n])
            outcomes[n] = "missing"
            continue
        upserts.append(PERSISTERS[kind].upsert(app[MONGO], doc_id, states.get(n), int(marks[2 * n])))
        planned.append(n)
    for n, stored in zip(planned, await upsert_all(upserts)):
        outcomes[n] = "stored" if stored else "stale"
    ttl = app[SETTINGS].cache_ttl

    def clear(pipe) -> None:
        for n in pending:
            kind, doc_id = parsed[n]
            functions.call(pipe, "ledger_clear", [PENDING, PENDING_SINCE, PENDING_DELETES,
                                                  *PERSISTERS[kind].keys(doc_id)],
                           {"member": members[n], "version": marks[2 * n].decode(), "ttl": ttl})

    if pending:
        await app[BATCH].run(clear)
    return outcomes


async def drain_queue(app: web.Application, queue: str) -> dict[str, int]:
    """Store what waits in `queue`'s drain set, batch by batch; how many of each outcome.

    The waiting mark goes first: a write from then on enqueues another job, so nothing added
    while this one works is left without one (two jobs may drain one set together; each member
    is popped by one). A batch that fails is stored member by member (`_one_by_one`); after
    `MAX_BATCHES` the job hands what is left to a new one.
    """
    drain = queues.drain_key(queue)
    await app[JOBS].run(lambda pipe: pipe.delete(queues.waiting_key(queue)))
    counts: dict[str, int] = {}
    for _ in range(MAX_BATCHES):
        [popped] = await app[JOBS].run(lambda pipe: pipe.spop(drain, BATCH_SIZE))
        if not popped:
            return counts
        members = [m.decode() for m in popped]
        try:
            outcomes = await store_all(app, members)
        except UNREACHABLE:
            await app[JOBS].run(lambda pipe: pipe.sadd(drain, *members))
            raise
        except Exception:
            outcomes = await _one_by_one(app, drain, members)
        except BaseException:
            await app[JOBS].run(lambda pipe: pipe.sadd(drain, *members))
            raise
        for outcome in outcomes:
            counts[outcome] = counts.get(outcome, 0) + 1
    await app[JOBS].transaction(lambda pipe: queues.signal(pipe, queue, []))
    return counts


async def _one_by_one(app: web.Application, drain: str, members: list[str]) -> list[str]:
    """A batch that failed, member by member: one document that cannot be stored must not hold up
    the others. If every one fails (MongoDB down), the batch goes back into the set and the job
    fails, for RQ to retry; otherwise those that failed stay in the ledger only (logged), for the
    reconciler to try again later."""
    outcomes, failed = [], []
    for n, member in enumerate(members):
        try:
            outcomes.extend(await store_all(app, [member]))
        except Exception as exc:
            failed.append(member)
            if isinstance(exc, UNREACHABLE) or len(failed) == len(members):
                await app[JOBS].run(lambda pipe: pipe.sadd(drain, *members[n:]))
                raise
            log.exception("%s could not be stored; it stays pending", member)
            outcomes.append("failed")
    return outcomes


def drain(queue: str) -> dict[str, int]:
    """The coalesced persist job of `queue`."""
    return context.run(drain_queue(context.app(), queue))


async def store(app: web.Application, kind: str, doc_id: str) -> str:
    return (await store_all(app, [f"{kind}:{doc_id}"]))[0]


def persist(kind: str, doc_id: str) -> str:
    """An earlier version's job of a write that changed one document."""
    return context.run(store(context.app(), kind, doc_id))


def persist_many(members: list[str]) -> list[str]:
    """An earlier version's job of a write that changed several documents (`<kind>:<id>` each)."""
    return context.run(store_all(context.app(), members))
