"""The notification job: create one (store, cache, emit, maybe e-mail), with the API's own
functions (workers.context)."""
from __future__ import annotations

import logging

from aiohttp import web
from bson import ObjectId

import queues
from mysocial.core import realtime
from mysocial.core.appkeys import JOBS, MONGO
from mysocial.core.mongo import is_oid, now_iso, upsert_one
from mysocial.core.reads import read_all
from mysocial.graph import cache as graph
from mysocial.notifications import cache, service, store
from mysocial.users import cache as users
from workers import context

log = logging.getLogger("mysocial.notifications")

KINDS = ("comments", "reactions", "follows", "messages", "moderation")
HEADERS = {
    "moderation": "Moderation Notification",
    "comments": "Comment Notification",
    "reactions": "Reaction Notification",
    "follows": "Follower Notification",
    "messages": "Direct Message Notification",
}
OPTIONAL = ("comment", "reaction", "post", "imgId", "imgVersion", "gifUrl")
CREATED = 1  # version of a new notification; marks and deletes get write-path versions, far larger


async def _skip(app: web.Application, n: dict) -> str | None:
    """Why this notification must not be created, or None."""
    to, sender, kind = n.get("userTo"), n.get("userFrom"), n.get("notificationType")
    if kind not in KINDS or not is_oid(to) or not is_oid(sender):
        return "invalid"
    if kind == "moderation":
        return None  # from the staff: reaches the user whatever their blocks (it e-mails on its own)
    if to == sender:
        return "self"
    reads = [graph.blocked_between(to, sender)] + ([graph.following(sender, to)] if kind == "follows" else [])
    blocked, *followed = await read_all(app, *reads)
    if blocked:
        return "blocked"
    if kind == "follows" and "followedAt" in n and followed[0] != n["followedAt"]:
        return "stale"  # that follow did not take (a duplicate) or was undone before this job ran
    return None


async def make(app: web.Application, n: dict) -> str:
    """Idempotent: the id and time come with the job, the stored copy is written once
    (version-guarded), the cache entry is filled only if absent, the e-mail is keyed by the id;
    a notification deleted before a retry stays deleted."""
    reason = await _skip(app, n)
    recipient = None if reason else await users.get(app, n["userTo"])
    if reason or recipient is None:
        log.info("notification %s skipped: %s", n.get("notificationType"), reason or "no recipient")
        return reason or "no recipient"
    kind = n["notificationType"]
    doc = {
        "_id": n["_id"] if is_oid(n.get("_id")) else str(ObjectId()), "userTo": n["userTo"],
        "userFrom": n["userFrom"], "message": str(n.get("message") or ""), "notificationType": kind,
        "entityId": str(n.get("entityId") or ""), "createdItemId": str(n.get("createdItemId") or ""),
        **{field: n.get(field) or "" for field in OPTIONAL},
        "read": False, "createdAt": n.get("createdAt") or now_iso(),
    }
    db = app[MONGO]
    if not await upsert_one(store.upsert(db, doc["_id"], doc, CREATED)) and await store.find(db, doc["_id"]) is None:
        return "deleted"  # a retry after the recipient deleted it
    if not await cache.put(app, doc):
        return "deleted"
    if kind != "moderation" and recipient.get("notifications", {}).get(kind, True) is True and recipient.get("email"):
        context_values = {"username": recipient.get("username", ""), "message": doc["message"], "header": HEADERS[kind]}
        await app[JOBS].transaction(lambda pipe: queues.email(pipe, kind, recipient["email"], context_values,
                                                               key=doc["_id"]))
    try:
        await realtime.emit_to(app, "insert notification",
                               (await service.listing(app, doc["userTo"]), {"userTo": doc["userTo"]}), [doc["userTo"]])
    except Exception:  # the notification exists; the recipient sees it on the next read
        log.exception("insert notification not emitted for %s", doc["_id"])
    return doc["_id"]


def create(notification: dict) -> str:
    """Enqueued by `queues.notify`; see its docstring for the payload."""
    return context.run(make(context.app(), notification))
