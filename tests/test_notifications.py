"""Notifications: the job (in-app, socket, e-mail by setting), list, mark as read, delete."""
from __future__ import annotations

from bson import ObjectId

import queues
from mysocial.core.appkeys import REDIS
from mysocial.core.mail import read_outbox
from mysocial.core.writepath import PENDING
from tests.conftest import redis_state, settle
from tests.social import Member, call, connect, join
from workers import notifications as job


def comment_notice(sender: Member, recipient: Member, **extra) -> dict:
    return {"userTo": recipient.id, "userFrom": sender.id, "notificationType": "comments",
            "message": f"{sender.username} commented on your post.", "entityId": str(ObjectId()),
            "createdItemId": str(ObjectId()), "comment": "Nice!", "post": "Hello", **extra}


async def notify(client, notice: dict) -> None:
    """What the comments route does: enqueue the job with its write."""
    async with client.app[REDIS].pipeline(transaction=True) as pipe:
        queues.notify(pipe, notice)
        await pipe.execute()


def stored(db, notification_id: str) -> dict | None:
    return db["notifications"].find_one({"_id": ObjectId(notification_id)})


async def test_comment_notification_follows_the_email_setting(client, sockets, settings, db, drain):
    alice, bobby = await join(client, "alice", "bobby")
    a_sock, b_sock = await connect(sockets, client, alice, bobby)
    body = await call(client, "PUT", "/user/profile/settings", bobby, json={"comments": False})
    assert body["settings"]["comments"] is False and body["settings"]["reactions"] is True

    await notify(client, comment_notice(alice, bobby))
    await drain()
    [note] = (await call(client, "GET", "/notifications", bobby))["notifications"]
    assert note["message"] == "Alice commented on your post." and note["comment"] == "Nice!"
    assert note["userFrom"] == {"profilePicture": note["userFrom"]["profilePicture"], "username": "Alice",
                                "avatarColor": "#f00", "uId": note["userFrom"]["uId"]}
    assert note["userFrom"]["profilePicture"] and len(note["userFrom"]["uId"]) == 12
    notes, meta = await b_sock.wait_for("insert notification")
    assert [n["_id"] for n in notes] == [note["_id"]] and meta == {"userTo": bobby.id}
    assert notes[0]["userFrom"]["username"] == "Alice"
    await settle(settings, a_sock)
    assert a_sock.received("insert notification") == []
    assert read_outbox(settings.outbox_dir) == []
    assert stored(db, note["_id"])["notificationType"] == "comments"

    await call(client, "PUT", "/user/profile/settings", bobby, json={"comments": True})
    await notify(client, comment_notice(alice, bobby, comment="Again"))
    await drain()
    [mail] = read_outbox(settings.outbox_dir)
    assert mail["to"] == bobby.email and mail["subject"] == "Comment notification"
    assert "Alice commented on your post." in mail["html"] and "Hello Bobby" in mail["html"]
    listed = (await call(client, "GET", "/notifications", bobby))["notifications"]
    assert [n["comment"] for n in listed] == ["Again", "Nice!"], "newest first"
    await b_sock.wait_for("insert notification", lambda data: len(data[0]) == 2)


async def test_mark_as_read_and_delete(client, sockets, settings, r, db, drain):
    alice, bobby = await join(client, "alice", "bobby")
    await notify(client, comment_notice(alice, bobby))
    await drain()
    [note] = (await call(client, "GET", "/notifications", bobby))["notifications"]
    a_sock, b_sock = await connect(sockets, client, alice, bobby)

    body = await call(client, "PUT", f"/notification/{note['_id']}", bobby)
    assert body == {"message": "Notification marked as read"}
    assert await b_sock.wait_for("update notification") == note["_id"]
    assert (await call(client, "GET", "/notifications", bobby))["notifications"][0]["read"] is True
    await drain()
    assert stored(db, note["_id"])["read"] is True and r.hlen(PENDING) == 0

    body = await call(client, "DELETE", f"/notification/{note['_id']}", bobby)
    assert body == {"message": "Notification deleted successfully"}
    assert await b_sock.wait_for("delete notification") == note["_id"]
    await settle(settings, a_sock)
    assert a_sock.received("update notification") == [] and a_sock.received("delete notification") == []
    assert (await call(client, "GET", "/notifications", bobby))["notifications"] == []
    await drain()
    assert db["notifications"].find_one({"_id": ObjectId(note["_id"]), "_deleted": {"$ne": True}}) is None
    await call(client, "DELETE", f"/notification/{note['_id']}", bobby, 404)


async def test_only_the_recipient_may_mark_or_delete(client, r, db, drain):
    alice, bobby = await join(client, "alice", "bobby")
    await notify(client, comment_notice(alice, bobby))
    await drain()
    [note] = (await call(client, "GET", "/notifications", bobby))["notifications"]
    await call(client, "GET", "/notifications", alice)  # loads alice's (empty) list: a read
    before, before_doc = redis_state(r), stored(db, note["_id"])
    for method in ("PUT", "DELETE"):
        await call(client, method, f"/notification/{note['_id']}", alice, 404)
        await call(client, method, f"/notification/{ObjectId()}", bobby, 404)
        msg = (await call(client, method, "/notification/nope", bobby, 400))["message"]
        assert msg == "Invalid notification id"
        await call(client, method, f"/notification/{note['_id']}", None, 401)
    await call(client, "GET", "/notifications", None, 401)
    assert redis_state(r) == before
    await drain()
    assert stored(db, note["_id"]) == before_doc


async def test_no_notification_to_yourself_or_across_a_block(client, settings, db, drain):
    alice, bobby = await join(client, "alice", "bobby")
    assert job.create(comment_notice(alice, alice)) == "self"
    assert job.create({**comment_notice(alice, bobby), "notificationType": "pokes"}) == "invalid"
    await call(client, "PUT", f"/user/block/{alice.id}", bobby)
    await notify(client, comment_notice(alice, bobby))
    await notify(client, comment_notice(bobby, alice))
    await drain()
    assert db["notifications"].count_documents({}) == 0
    assert read_outbox(settings.outbox_dir) == []
    assert job.create(comment_notice(alice, bobby)) == "blocked"


async def test_notifications_from_someone_later_blocked_are_hidden(client, drain):
    alice, bobby, carol = await join(client, "alice", "bobby", "carol")
    await notify(client, comment_notice(alice, bobby))
    await notify(client, comment_notice(carol, bobby))
    await drain()
    await call(client, "PUT", f"/user/block/{alice.id}", bobby)
    listed = (await call(client, "GET", "/notifications", bobby))["notifications"]
    assert [n["userFrom"]["username"] for n in listed] == ["Carol"]


async def test_stale_follow_notification_is_dropped(client, drain, db):
    alice, bobby = await join(client, "alice", "bobby")
    await call(client, "PUT", f"/user/follow/{bobby.id}", alice)
    await call(client, "PUT", f"/user/unfollow/{bobby.id}/{alice.id}", alice)
    await drain()  # the follow was undone before its notification job ran
    assert db["notifications"].count_documents({}) == 0
    notice = {"userTo": bobby.id, "userFrom": alice.id, "notificationType": "follows", "followedAt": 1.0}
    assert job.create(notice) == "stale"


async def test_list_rebuilt_from_mongo_after_cache_loss(client, r, drain):
    alice, bobby = await join(client, "alice", "bobby")
    await notify(client, comment_notice(alice, bobby))
    await notify(client, comment_notice(alice, bobby, comment="Two"))
    await drain()
    ids = [n["_id"] for n in (await call(client, "GET", "/notifications", bobby))["notifications"]]
    r.delete(f"notifications:{bobby.id}", f"complete:notifications:{bobby.id}", *[f"notification:{i}" for i in ids])
    listed = (await call(client, "GET", "/notifications", bobby))["notifications"]
    assert [n["_id"] for n in listed] == ids
    await call(client, "PUT", f"/notification/{ids[0]}", bobby)
    assert [n["read"] for n in (await call(client, "GET", "/notifications", bobby))["notifications"]] == [True, False]


async def test_a_notification_job_run_again_changes_nothing(client, settings, r, db, drain):
    """A retried or duplicated job (same payload: its id and time were decided at enqueue) stores,
    lists and e-mails one notification; it does not undo a read, nor bring back a deleted one."""
    from rq import Queue

    alice, bobby = await join(client, "alice", "bobby")
    await notify(client, comment_notice(alice, bobby))
    [job_id] = Queue("notification", connection=r).job_ids
    payload = Queue("notification", connection=r).fetch_job(job_id).args[0]
    assert ObjectId.is_valid(payload["_id"]) and payload["createdAt"]

    async def run_again() -> None:
        async with client.app[REDIS].pipeline(transaction=True) as pipe:
            queues.add_job(pipe, "notification", "workers.notifications.create", payload)
            await pipe.execute()
        await drain()

    await drain()
    await run_again()
    [note] = (await call(client, "GET", "/notifications", bobby))["notifications"]
    assert note["_id"] == payload["_id"] and db["notifications"].count_documents({}) == 1
    assert len(read_outbox(settings.outbox_dir)) == 1, "one e-mail"

    await call(client, "PUT", f"/notification/{note['_id']}", bobby)
    await drain()
    await run_again()
    [note] = (await call(client, "GET", "/notifications", bobby))["notifications"]
    assert note["read"] is True and stored(db, note["_id"])["read"] is True

    await call(client, "DELETE", f"/notification/{note['_id']}", bobby)
    await drain()
    await run_again()
    assert (await call(client, "GET", "/notifications", bobby))["notifications"] == []
    r.delete(f"notification:{note['_id']}", f"notifications:{bobby.id}", f"complete:notifications:{bobby.id}")  # lost
    assert (await call(client, "GET", "/notifications", bobby))["notifications"] == []
    assert len(read_outbox(settings.outbox_dir)) == 1
