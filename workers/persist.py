"""The persist job: store a document's current cached state in MongoDB, version-guarded.

One job function for every kind (`persist(kind, id)`, and `persist_many` for a write that
changed several documents); each kind says here how to read its cached state, how to store
it, and which cache keys get their TTL once it is stored.
"""
from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Awaitable, Callable

from aiohttp import web

from mysocial.auth import cache as auth, store as auth_store
from mysocial.chat import cache as chat, store as chat_store
from mysocial.comments import cache as comments, store as comments_store
from mysocial.core import functions
from mysocial.core.appkeys import BATCH, MONGO, SETTINGS
from mysocial.core.reads import Read, plain, read_one
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

Save = Callable[[object, str, dict | None, int], Awaitable[bool]]


def hash_state(key: str, convert: Callable[[dict], dict] = lambda doc: doc) -> Read:
    """A document's cached hash as it is (no read-through: the state to store is Redis's)."""
    return plain(lambda pipe: pipe.hgetall(key), 1, lambda replies: convert(from_hash(replies[0])) if replies[0] else None)


@dataclass(frozen=True)
class Persister:
    state: Callable[[str], Read]
    save: Save
    keys: Callable[[str], tuple[str, ...]] = lambda doc_id: ()  # given the cache TTL once stored


def _document(key: Callable[[str], str], save: Save, convert=lambda doc: doc) -> Persister:
    return Persister(lambda doc_id: hash_state(key(doc_id), convert), save, lambda doc_id: (key(doc_id),))


PERSISTERS: dict[str, Persister] = {
    "auth": _document(auth.key, auth_store.save),
    "user": _document(users.key, users_store.save),
    "session": _document(sessions.key, sessions_store.save),
    "post": _document(posts.key, posts_store.save, posts.unflatten),
    "reaction": _document(reactions.key, reactions_store.save),
    "comment": _document(comments.key, comments_store.save),
    "image": _document(images.key, images_store.save),
    "message": _document(chat.message_key, chat_store.save_message),
    "conversation": Persister(lambda doc_id: hash_state(chat.conversation_key(doc_id)), chat_store.save_conversation),
    "notification": Persister(notifications.state, notifications_store.save, lambda doc_id: (notifications.key(doc_id),)),
    "follow": Persister(graph.follow_state, graph_store.save_follow),
    "block": Persister(graph.block_state, graph_store.save_block),
    "account": _document(moderation.account_key, moderation_store.save_account),
    "report": _document(moderation.report_key, moderation_store.save_report),
    "audit": _document(moderation.audit_key, moderation_store.save_audit),
}


async def store(app: web.Application, kind: str, doc_id: str) -> str:
    """Read the ledger version, then the cached state, store it, clear the ledger entry.

    The version is read before the state, so the stored state is never older than its version
    says; a stale job is refused by the guard in MongoDB.
    """
    persister = PERSISTERS[kind]
    member = f"{kind}:{doc_id}"
    raw, deleted = await app[BATCH].transaction(lambda pipe: (pipe.hget(PENDING, member),
                                                              pipe.sismember(PENDING_DELETES, member)))
    if raw is None:
        return "clean"
    doc = None if deleted else await read_one(app, persister.state(doc_id))
    if doc is None and not deleted:
        log.warning("%s has no cached state and no delete: nothing to store", member)
        outcome = "missing"
    else:
        outcome = "stored" if await persister.save(app[MONGO], doc_id, doc, int(raw)) else "stale"
    keys = [PENDING, PENDING_SINCE, PENDING_DELETES, *persister.keys(doc_id)]
    await app[BATCH].run(lambda pipe: functions.call(pipe, "ledger_clear", keys, {
        "member": member, "version": raw.decode(), "ttl": app[SETTINGS].cache_ttl}))
    return outcome


def persist(kind: str, doc_id: str) -> str:
    """The job of a write that changed one document."""
    return context.run(store(context.app(), kind, doc_id))


async def _store_all(app: web.Application, members: list[str]) -> list[str]:
    outcomes = []
    for member in members:
        kind, _, doc_id = member.partition(":")
        outcomes.append(await store(app, kind, doc_id))
    return outcomes


def persist_many(members: list[str]) -> list[str]:
    """The job of a write that changed several documents (`<kind>:<id>` each)."""
    return context.run(_store_all(context.app(), members))
