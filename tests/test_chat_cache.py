"""Chat state read back from MongoDB after eviction, and idempotent persistence."""
from __future__ import annotations

from bson import ObjectId

from mysocial.chat import store
from tests.chat_helpers import CHAT, call, chat_list, messages, people, send
from workers.chat import persist_conversation, persist_message


async def conversation_of_three(client, drain):
    a, b, c = await people(client, "alice", "bobby", "carol")
    conv_id = (await send(client, a, b, "one"))["conversationId"]
    await send(client, b, a, "two")
    await send(client, a, b, "three")
    await send(client, c, b, "carol here")
    await call(client, "PUT", f"{CHAT}/reaction", b, json={
        "conversationId": conv_id, "messageId": (await messages(client, b, a))[0]["_id"], "reaction": "wow",
        "type": "add"})
    await drain()
    return a, b, c, conv_id


async def test_read_back_when_message_hashes_expired(client, r, drain):
    a, b, c, conv_id = await conversation_of_three(client, drain)
    before = (await messages(client, a, b), await chat_list(client, b))
    assert r.ttl(next(iter(r.keys("chat:msg:*")))) > 0, "a persisted message hash has the cache TTL"
    r.delete(*r.keys("chat:msg:*"))
    assert (await messages(client, a, b), await chat_list(client, b)) == before
    assert r.exists(*[f"chat:msg:{m['_id']}" for m in before[0]]) == 3, "read back into Redis"


async def test_read_back_when_sets_and_conversations_are_gone(client, r, db, drain):
    a, b, c, conv_id = await conversation_of_three(client, drain)
    before = (await messages(client, a, b), await chat_list(client, b), await chat_list(client, a))
    assert [(m["body"], m["unreadCount"]) for m in before[1]] == [("carol here", 1), ("three", 2)]
    r.delete(*r.keys("chat:*"))  # every chat key: as after a Redis loss once all was persisted
    assert (await messages(client, a, b), await chat_list(client, b), await chat_list(client, a)) == before
    assert [m["seq"] for m in await messages(client, b, a, "?limit=2&before=3")] == [1, 2]

    # The sequence goes on where it was, even if the conversation's own document lags behind.
    db["conversations"].update_one({"_id": ObjectId(conv_id)}, {"$set": {"seq": 1}})
    r.delete(*r.keys("chat:*"))
    assert (await send(client, b, a, "four"))["conversationId"] == conv_id
    assert [m["seq"] for m in await messages(client, a, b)] == [1, 2, 3, 4]
    assert [(m["body"], m["unreadCount"]) for m in await chat_list(client, a)] == [("four", 2)]


async def test_window_fills_only_missing_messages(client, r, drain):
    a, b, *_ = await people(client, "alice", "bobby")
    for n in range(6):
        await send(client, a, b, f"m{n}")
    conv_id = (await send(client, a, b, "m6"))["conversationId"]
    await drain()
    key = f"chat:conv:{conv_id}:msgs"
    r.zremrangebyscore(key, 2, 3)
    assert [m["body"] for m in await messages(client, b, a)] == [f"m{n}" for n in range(7)]
    assert r.zcard(key) == 7
    r.delete(key)
    assert [m["seq"] for m in await messages(client, b, a, "?limit=2")] == [6, 7]
    assert r.zcard(key) == 2 and r.ttl(key) > 0, "a set read back from MongoDB gets the cache TTL"


async def test_persist_jobs_are_idempotent_and_version_guarded(client, r, db):
    a, b = await people(client, "alice", "bobby")
    conv_id = (await send(client, a, b, "hello"))["conversationId"]
    msg = (await messages(client, a, b))[0]
    old_version = int(r.hget("pending", f"message:{msg['_id']}"))
    assert persist_message(msg["_id"]) == "stored"
    assert persist_message(msg["_id"]) == "clean"
    assert persist_conversation(conv_id) == "stored"
    await call(client, "PUT", f"{CHAT}/reaction", b, json={
        "conversationId": conv_id, "messageId": msg["_id"], "reaction": "sad", "type": "add"})
    assert persist_message(msg["_id"]) == "stored"
    stale = {**msg, "reaction": [], "deletedFor": []}
    assert store.save_message(db, msg["_id"], stale, old_version) is False
    assert store.save_message(db, msg["_id"], None, 2**62) is False, "no tombstone for a message"
    stored = db["messages"].find_one({"_id": ObjectId(msg["_id"])})
    assert stored["reaction"] == [{"senderName": "Bobby", "type": "sad"}]
    assert db["messages"].count_documents({}) == 1 and db["conversations"].count_documents({}) == 1


async def test_an_entry_about_to_expire_is_held_until_the_change_commits(client, r, drain):
    from mysocial.core.cache import hold

    a, b = await people(client, "alice", "bobby")
    await send(client, a, b, "short-lived")
    await drain()
    key = f"chat:msg:{(await messages(client, a, b))[0]['_id']}"
    r.pexpire(key, 50)
    assert await hold(client.server.app, [key, "chat:msg:gone"]) == ["chat:msg:gone"]
    assert r.pttl(key) > 50_000
    await call(client, "DELETE", f"{CHAT}/mark-as-deleted/{key.rsplit(':', 1)[1]}/{a.id}/{b.id}/deleteForMe", b)
    assert r.ttl(key) == -1, "pending: no TTL until persisted"
    await drain()
    assert r.ttl(key) > 0
