"""Notification jobs: create one (store, cache, emit, maybe e-mail) and persist marks/deletes."""
from __future__ import annotations

import logging

from bson import ObjectId

import queues
from mysocial.blocks import cache as blocks
from mysocial.core.mongo import is_oid, now_iso
from mysocial.followers import cache as follows
from mysocial.notifications import cache, store
from mysocial.users import store as users_store
from workers import context, users
from workers.persist import persist

log = logging.getLogger("mysocial.notifications")

KINDS = ("comments", "reactions", "follows", "messages")
HEADERS = {
    "comments": "Comment Notification",
    "reactions": "Reaction Notification",
    "follows": "Follower Notification",
    "messages": "Direct Message Notification",
}
OPTIONAL = ("comment", "reaction", "post", "imgId", "imgVersion", "gifUrl")
CREATED = 1  # version of a new notification; marks and deletes get write-path versions, far larger


def _user(ctx: context.Context, user_id: str) -> dict | None:
    return users.load(ctx.redis, user_id) or users_store.find_sync(ctx.db, user_id)


def _skip(ctx: context.Context, n: dict) -> str | None:
    """Why this notification must not be created, or None."""
    to, sender, kind = n.get("userTo"), n.get("userFrom"), n.get("notificationType")
    if kind not in KINDS or not is_oid(to) or not is_oid(sender):
        return "invalid"
    if to == sender:
        return "self"
    if blocks.between_sync(ctx.redis, ctx.db, to, sender):
        return "blocked"
    if kind == "follows" and "followedAt" in n and follows.followed_at(ctx.redis, sender, to) != n["followedAt"]:
        return "stale"  # that follow did not take (a duplicate) or was undone before this job ran
    return None


def listing(ctx: context.Context, user_id: str) -> list[dict]:
    """The recipient's notifications in wire form (what GET /notifications answers)."""
    hidden = blocks.hidden_from_sync(ctx.redis, ctx.db, user_id)
    docs = cache.get_many_sync(ctx.redis, ctx.db, cache.ids_sync(ctx.redis, ctx.db, user_id))
    docs = [d for d in docs if d.get("userFrom") not in hidden]
    senders = {uid: _user(ctx, uid) for uid in {d["userFrom"] for d in docs}}
    return cache.present(docs, {uid: u for uid, u in senders.items() if u})


def create(notification: dict) -> str:
    """Enqueued by `queues.notify`; see its docstring for the payload.

    Idempotent: the id and time come with the job, the stored copy is written once
    (version-guarded), the cache entry is filled only if absent, the e-mail is keyed
    by the id; a notification deleted before a retry stays deleted.
    """
    ctx = context.get()
    n = notification
    reason = _skip(ctx, n)
    recipient = None if reason else _user(ctx, n["userTo"])
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
    if not store.save(ctx.db, doc["_id"], doc, CREATED) and store.find_sync(ctx.db, doc["_id"]) is None:
        return "deleted"  # a retry after the recipient deleted it
    if not cache.put(ctx.redis, doc, ctx.settings.cache_ttl):
        return "deleted"
    if recipient.get("notifications", {}).get(kind, True) is True and recipient.get("email"):
        with ctx.redis.pipeline(transaction=True) as pipe:
            queues.email(pipe, kind, recipient["email"],
                         {"username": recipient.get("username", ""), "message": doc["message"], "header": HEADERS[kind]},
                         key=doc["_id"])
            pipe.execute()
    try:
        ctx.emit("insert notification", (listing(ctx, doc["userTo"]), {"userTo": doc["userTo"]}), [doc["userTo"]])
    except Exception:  # the notification exists; the recipient sees it on the next read
        log.exception("insert notification not emitted for %s", doc["_id"])
    return doc["_id"]


def persist_notification(notification_id: str) -> str:
    return persist("notification", notification_id, cache.load, store.save, (cache.key(notification_id),))
