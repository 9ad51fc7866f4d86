"""Chat over REST: every route's success, bad input (4xx, nothing written) and third-user access."""
from __future__ import annotations

from pathlib import Path

import pytest
from bson import ObjectId
from rq import Queue

from tests.chat_helpers import CHAT, call, chat_list, messages, people, receiver_fields, send, state
from tests.conftest import PNG


def redis_message(r, message_id: str) -> dict:
    import orjson

    return {k.decode(): orjson.loads(v) for k, v in r.hgetall(f"chat:msg:{message_id}").items()}


async def test_send_creates_conversation_then_reuses_it(client, r, db, drain):
    a, b = await people(client, "alice", "bobby")
    first = await send(client, a, b, "hi bob")
    assert first["message"] == "Message added"
    conv_id = first["conversationId"]
    second = await send(client, b, a, "hi alice")
    assert second["conversationId"] == conv_id, "the reply finds the conversation of the two users"
    third = await send(client, a, b, "again", conversationId=conv_id)
    assert third["conversationId"] == conv_id

    ids = [m.decode() for m in r.zrange(f"chat:conv:{conv_id}:msgs", 0, -1)]
    cached = [redis_message(r, i) for i in ids]
    assert [(m["seq"], m["senderId"], m["body"]) for m in cached] == [
        (1, a.id, "hi bob"), (2, b.id, "hi alice"), (3, a.id, "again")]
    assert cached[0]["receiverUsername"] == "Bobby" and cached[0]["senderUsername"] == "Alice"
    assert cached[0]["isRead"] is False and cached[0]["reaction"] == [] and cached[0]["deleteForEveryone"] is False
    jobs = [j.args[0] for j in Queue("notification", connection=r).jobs]
    assert [(j["userTo"], j["userFrom"], j["notificationType"], j["createdItemId"]) for j in jobs] == [
        (b.id, a.id, "messages", ids[0]), (a.id, b.id, "messages", ids[1]), (b.id, a.id, "messages", ids[2])]

    await drain()
    stored = list(db["messages"].find({"conversationId": ObjectId(conv_id)}).sort("seq", 1))
    assert [(str(d["_id"]), d["seq"], d["body"], str(d["senderId"])) for d in stored] == [
        (ids[0], 1, "hi bob", a.id), (ids[1], 2, "hi alice", b.id), (ids[2], 3, "again", a.id)]
    conv = db["conversations"].find_one({"_id": ObjectId(conv_id)})
    assert sorted(map(str, conv["participants"])) == sorted([a.id, b.id])
    assert conv["seq"] == 3 and str(conv["lastMessageId"]) == ids[2]
    assert not r.hkeys("pending"), "every persist job cleared its ledger entry"


async def test_send_image_and_gif(client, r, settings):
    a, b = await people(client, "alice", "bobby")
    await send(client, a, b, "", selectedImage=PNG)
    await send(client, a, b, "", gifUrl="https://media.giphy.com/x.gif")
    image, gif = await messages(client, b, a)
    assert image["selectedImage"].endswith(f"/media/{image['_id']}.png")
    assert (Path(settings.media_dir) / f"{image['_id']}.png").exists()
    assert gif["gifUrl"] == "https://media.giphy.com/x.gif" and gif["selectedImage"] == ""


@pytest.mark.parametrize("fields, status, message", [
    ({"receiverId": None}, 400, '"receiverId" must be a string'),
    ({"receiverId": "nope"}, 400, "Invalid receiver id"),
    ({"receiverUsername": None}, 400, '"receiverUsername" must be a string'),
    ({"receiverAvatarColor": ""}, 400, '"receiverAvatarColor" is not allowed to be empty'),
    ({"receiverProfilePicture": 7}, 400, '"receiverProfilePicture" must be a string'),
    ({"isRead": 1}, 400, '"isRead" must be a boolean'),
    ({"body": ""}, 400, "Message body, gif or image is required"),
    ({"body": "   ", "gifUrl": None}, 400, "Message body, gif or image is required"),
    ({"body": 5}, 400, '"body" must be a string'),
    ({"conversationId": "123"}, 400, "Invalid conversation id"),
    ({"selectedImage": "data:image/png;base64,@@@"}, 400, "File upload: Error occurred. Try again."),
    ({"receiverId": str(ObjectId())}, 404, "User not found"),
    ({"conversationId": str(ObjectId())}, 404, "Conversation not found"),
])
async def test_send_bad_input_writes_nothing(client, r, db, drain, fields, status, message):
    a, b = await people(client, "alice", "bobby")
    await drain()
    before = state(r, db)
    body = {**receiver_fields(b), "body": "hello", **fields}
    assert (await call(client, "POST", CHAT, a, status, json=body))["message"] == message
    assert state(r, db) == before


async def test_send_to_self_unauthenticated_or_into_others_conversation(client, r, db, drain):
    a, b, c = await people(client, "alice", "bobby", "carol")
    conv_id = (await send(client, a, b))["conversationId"]
    await drain()
    before = state(r, db)
    await send(client, a, a, status=400)
    await call(client, "POST", CHAT, None, 401, json={**receiver_fields(b), "body": "x"})
    await send(client, c, b, "sneaking in", status=403, conversationId=conv_id)
    await send(client, c, a, "sneaking in", status=403, conversationId=conv_id)
    assert state(r, db) == before


async def test_no_message_to_or_from_a_blocked_user(client, r, db, drain):
    a, b = await people(client, "alice", "bobby")
    sent = await send(client, a, b)
    message_id = (await messages(client, a, b))[-1]["_id"]
    await call(client, "PUT", f"/api/v1/user/block/{a.id}", b)
    await drain()
    before = state(r, db)
    assert (await send(client, a, b, status=403))["message"] == "You cannot send messages to this user"
    await send(client, b, a, status=403)
    reaction = {"conversationId": sent["conversationId"], "messageId": message_id, "reaction": "love", "type": "add"}
    await call(client, "PUT", f"{CHAT}/reaction", a, 403, json=reaction)
    await call(client, "POST", f"{CHAT}/add-chat-users", a, 403, json={"userOne": a.id, "userTwo": b.id})
    assert state(r, db) == before


async def test_conversation_list_newest_first_with_unread_counts(client):
    a, b, c = await people(client, "alice", "bobby", "carol")
    await send(client, a, b, "one")
    await send(client, c, b, "from carol")
    await send(client, a, b, "two")
    listed = await chat_list(client, b)
    assert [(m["body"], m["senderId"], m["unreadCount"]) for m in listed] == [("two", a.id, 2), ("from carol", c.id, 1)]
    assert [(m["body"], m["unreadCount"]) for m in await chat_list(client, a)] == [("two", 0)]
    assert await chat_list(client, c) == [{**listed[1], "unreadCount": 0}]
    await call(client, "GET", f"{CHAT}/conversation-list", None, 401)


async def test_messages_newest_window_and_older_pages(client, r, db):
    a, b, c = await people(client, "alice", "bobby", "carol")
    for n in range(1, 8):
        await send(client, a if n % 2 else b, b if n % 2 else a, f"m{n}")
    assert [m["body"] for m in await messages(client, a, b)] == [f"m{n}" for n in range(1, 8)]
    assert [m["seq"] for m in await messages(client, b, a, "?limit=3")] == [5, 6, 7]
    assert [m["seq"] for m in await messages(client, b, a, "?limit=3&before=5")] == [2, 3, 4]
    assert [m["seq"] for m in await messages(client, b, a, "?limit=3&before=2")] == [1]
    assert await messages(client, b, a, "?before=1") == []
    assert await messages(client, c, a) == [], "carol sees only her own (empty) conversation with alice"
    assert await chat_list(client, c) == []
    before = state(r, db)
    for query in ("?before=abc", "?limit=0", "?limit=101", "?before=-1"):
        await call(client, "GET", f"{CHAT}/user/{a.id}{query}", b, 400)
    await call(client, "GET", f"{CHAT}/user/not-an-id", b, 400)
    await call(client, "GET", f"{CHAT}/user/{b.id}", b, 400)
    await call(client, "GET", f"{CHAT}/user/{a.id}", None, 401)
    assert state(r, db) == before


async def test_mark_as_read(client, r, db, drain):
    a, b, c = await people(client, "alice", "bobby", "carol")
    conv_id = (await send(client, a, b, "one"))["conversationId"]
    await send(client, a, b, "two")
    await send(client, b, a, "reply")
    await drain()
    before = state(r, db)
    body = {"senderId": a.id, "receiverId": b.id}
    await call(client, "PUT", f"{CHAT}/mark-as-read", c, 403, json=body)
    await call(client, "PUT", f"{CHAT}/mark-as-read", c, 404, json={"senderId": c.id, "receiverId": a.id})
    await call(client, "PUT", f"{CHAT}/mark-as-read", b, 400, json={"senderId": b.id})
    await call(client, "PUT", f"{CHAT}/mark-as-read", b, 400, json={"senderId": b.id, "receiverId": "x"})
    await call(client, "PUT", f"{CHAT}/mark-as-read", b, 400, json={"senderId": b.id, "receiverId": b.id})
    await call(client, "PUT", f"{CHAT}/mark-as-read", None, 401, json=body)
    assert state(r, db) == before

    done = await call(client, "PUT", f"{CHAT}/mark-as-read", b, json={"senderId": b.id, "receiverId": a.id})
    assert done["message"] == "Message marked as read"
    seen = {m["body"]: m["isRead"] for m in await messages(client, b, a)}
    assert seen == {"one": True, "two": True, "reply": False}, "only messages sent to the reader are read"
    assert [m["unreadCount"] for m in await chat_list(client, b)] == [0]
    assert [m["unreadCount"] for m in await chat_list(client, a)] == [1]
    await drain()
    stored = {d["body"]: d["isRead"] for d in db["messages"].find({"conversationId": ObjectId(conv_id)})}
    assert stored == seen


async def test_reactions_add_replace_remove(client, r, db, drain):
    a, b, c = await people(client, "alice", "bobby", "carol")
    conv_id = (await send(client, a, b, "react to me"))["conversationId"]
    other_conv = (await send(client, c, b, "carol's"))["conversationId"]
    msg_id = (await messages(client, a, b))[0]["_id"]
    carol_msg = (await messages(client, c, b))[0]["_id"]

    def react(who, status=200, **fields):
        body = {"conversationId": conv_id, "messageId": msg_id, "reaction": "love", "type": "add", **fields}
        return call(client, "PUT", f"{CHAT}/reaction", who, status, json=body)

    assert (await react(b))["message"] == "Message reaction added"
    await react(b, reaction="happy")
    await react(a, reaction="like")
    assert (await messages(client, a, b))[0]["reaction"] == [
        {"senderName": "Bobby", "type": "happy"}, {"senderName": "Alice", "type": "like"}]
    await drain()
    before = state(r, db)
    await react(c, 403)
    await react(c, 404, conversationId=other_conv)  # her own conversation, but not its message
    await react(b, 404, messageId=carol_msg)
    await react(b, 404, messageId=str(ObjectId()))
    await react(b, 404, conversationId=str(ObjectId()))
    await react(b, 400, type="toggle")
    await react(b, 400, reaction="meh")
    await react(b, 400, reaction=None)
    await react(b, 400, messageId="bad")
    await call(client, "PUT", f"{CHAT}/reaction", b, 400, json={"conversationId": conv_id, "messageId": msg_id})
    await react(None, 401)
    assert state(r, db) == before

    await react(b, type="remove", reaction=None)
    assert (await messages(client, b, a))[0]["reaction"] == [{"senderName": "Alice", "type": "like"}]
    await drain()
    assert db["messages"].find_one({"_id": ObjectId(msg_id)})["reaction"] == [{"senderName": "Alice", "type": "like"}]


async def test_delete_for_me_and_for_everyone(client, r, db, drain, settings):
    a, b, c = await people(client, "alice", "bobby", "carol")
    await send(client, a, b, "secret", selectedImage=PNG)
    await send(client, a, b, "keep")
    first, kept = await messages(client, a, b)
    path = f"{CHAT}/mark-as-deleted/{first['_id']}"
    await drain()
    before = state(r, db)
    await call(client, "DELETE", f"{path}/{a.id}/{b.id}/deleteForEveryone", c, 403)
    await call(client, "DELETE", f"{path}/{c.id}/{a.id}/deleteForMe", c, 404)
    await call(client, "DELETE", f"{path}/{a.id}/{b.id}/deleteForEveryone", b, 403)  # only the sender
    await call(client, "DELETE", f"{path}/{a.id}/{b.id}/deleteForAll", a, 400)
    await call(client, "DELETE", f"{path}/{a.id}/bad/deleteForMe", a, 400)
    await call(client, "DELETE", f"{CHAT}/mark-as-deleted/bad/{a.id}/{b.id}/deleteForMe", a, 400)
    await call(client, "DELETE", f"{CHAT}/mark-as-deleted/{ObjectId()}/{a.id}/{b.id}/deleteForMe", a, 404)
    await call(client, "DELETE", f"{path}/{a.id}/{b.id}/deleteForMe", None, 401)
    assert state(r, db) == before

    done = await call(client, "DELETE", f"{path}/{a.id}/{b.id}/deleteForMe", b)
    assert done["message"] == "Message marked as deleted"
    mine, theirs = (await messages(client, b, a))[0], (await messages(client, a, b))[0]
    assert mine["deleteForMe"] is True and mine["body"] == "" and mine["selectedImage"] == ""
    assert theirs["deleteForMe"] is False and theirs["body"] == "secret"
    assert [m["unreadCount"] for m in await chat_list(client, b)] == [1], "a message I deleted is not unread"

    await call(client, "DELETE", f"{path}/{b.id}/{a.id}/deleteForEveryone", a)
    for who, other in ((a, b), (b, a)):
        gone = (await messages(client, who, other))[0]
        assert gone["deleteForEveryone"] and gone["deleteForMe"] and gone["body"] == "" and gone["selectedImage"] == ""
    assert not (Path(settings.media_dir) / f"{first['_id']}.png").exists()
    await drain()
    stored = db["messages"].find_one({"_id": ObjectId(first["_id"])})
    assert stored["deleteForEveryone"] is True and stored["body"] == "" and stored["deletedFor"] == [b.id]
    assert db["messages"].find_one({"_id": ObjectId(kept["_id"])})["body"] == "keep"


async def test_chat_users_open_and_close(client, r, db, drain):
    a, b, c = await people(client, "alice", "bobby", "carol")
    await drain()
    before = state(r, db)
    add = f"{CHAT}/add-chat-users"
    await call(client, "POST", add, c, 403, json={"userOne": "Alice", "userTwo": "Bobby"})
    await call(client, "POST", add, a, 404, json={"userOne": "Alice", "userTwo": "Nobody"})
    await call(client, "POST", add, a, 404, json={"userOne": a.id, "userTwo": str(ObjectId())})
    await call(client, "POST", add, a, 400, json={"userOne": "Alice", "userTwo": a.id})
    await call(client, "POST", add, a, 400, json={"userOne": "Alice"})
    await call(client, "POST", add, a, 400, json={"userOne": "Alice", "userTwo": 7})
    await call(client, "POST", add, None, 401, json={"userOne": "Alice", "userTwo": "Bobby"})
    assert state(r, db) == before

    # Alice has her chat with Bobby open: what Bobby sends her is read at once, and not notified.
    assert (await call(client, "POST", add, a, json={"userOne": "alice", "userTwo": b.id}))["message"] == "Users added"
    await send(client, b, a, "seen")
    assert (await messages(client, a, b))[-1]["isRead"] is True
    assert [m["unreadCount"] for m in await chat_list(client, a)] == [0]
    assert Queue("notification", connection=r).count == 0
    removed = await call(client, "POST", f"{CHAT}/remove-chat-users", a, json={"userOne": "Alice", "userTwo": "Bobby"})
    assert removed["message"] == "Users removed"
    await send(client, b, a, "unseen")
    assert (await messages(client, a, b))[-1]["isRead"] is False
    assert [m["unreadCount"] for m in await chat_list(client, a)] == [1]
    assert Queue("notification", connection=r).count == 1
