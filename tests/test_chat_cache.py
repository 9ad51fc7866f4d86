"""Chat state read back from MongoDB after eviction, and idempotent persistence."""
from __future__ import annotations

import json

from bson import ObjectId

from mysocial.chat import store
from mysocial.core.appkeys import MONGO
from mysocial.core.mongo import upsert_one
from tests.chat_helpers import CHAT, call, chat_list, messages, people, send
from workers.persist import persist


def lose_chat(r) -> None:
    """Every chat key and the markers of its indexes."""
    r.delete(*r.keys("chat:*"), *r.keys("complete:chat:*"))


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
    lose_chat(r)  # as after a Redis loss once all was persisted
    assert (await messages(client, a, b), await chat_list(client, b), await chat_list(client, a)) == before
    assert [m["seq"] for m in await messages(client, b, a, "?limit=2&before=3")] == [1, 2]

    # The sequence goes on where it was, even if the conversation's own document lags behind.
    db["conversations"].update_one({"_id": ObjectId(conv_id)}, {"$set": {"seq": 1}})
    lose_chat(r)
    assert (await send(client, b, a, "four"))["conversationId"] == conv_id
    assert [m["seq"] for m in await messages(client, a, b)] == [1, 2, 3, 4]
    assert [(m["body"], m["unreadCount"]) for m in await chat_list(client, a)] == [("four", 2)]


async def test_a_lost_message_index_is_rebuilt_from_mongodb(client, r, drain):
    a, b, *_ = await people(client, "alice", "bobby")
    for n in range(6):
        await send(client, a, b, f"m{n}")
    conv_id = (await send(client, a, b, "m6"))["conversationId"]
    await drain()
    key = f"chat:conv:{conv_id}:msgs"
    r.delete(key, f"complete:chat:msgs:{conv_id}")
    assert [m["seq"] for m in await messages(client, b, a, "?limit=2")] == [6, 7]
    assert r.zcard(key) == 7 and r.ttl(key) == -1, "rebuilt whole, and kept (an index has no TTL)"
    assert r.exists(f"complete:chat:msgs:{conv_id}")
    r.zrem(key, r.zrange(key, 0, 0)[0])
    assert len(await messages(client, b, a)) == 6, "a complete index is what Redis says"


async def test_persist_jobs_are_idempotent_and_version_guarded(client, r, db):
    a, b = await people(client, "alice", "bobby")
    conv_id = (await send(client, a, b, "hello"))["conversationId"]
    msg = (await messages(client, a, b))[0]
    old_version = int(r.hget("pending", f"message:{msg['_id']}"))
    assert persist("message", msg["_id"]) == "stored"
    assert persist("message", msg["_id"]) == "clean"
    assert persist("conversation", conv_id) == "stored"
    await call(client, "PUT", f"{CHAT}/reaction", b, json={
        "conversationId": conv_id, "messageId": msg["_id"], "reaction": "sad", "type": "add"})
    assert persist("message", msg["_id"]) == "stored"
    stale = {**msg, "reaction": [], "deletedFor": []}
    mongo = client.server.app[MONGO]
    assert await upsert_one(store.upsert_message(mongo, msg["_id"], stale, old_version)) is False
    assert store.upsert_message(mongo, msg["_id"], None, 2**62) is None, "no tombstone for a message"
    stored = db["messages"].find_one({"_id": ObjectId(msg["_id"])})
    assert stored["reaction"] == [{"senderName": "Bobby", "type": "sad"}]
    assert db["messages"].count_documents({}) == 1 and db["conversations"].count_documents({}) == 1


async def test_a_change_to_an_evicted_message_fills_it_first(client, r, db, drain):
    a, b = await people(client, "alice", "bobby")
    await send(client, a, b, "short-lived")
    await drain()
    msg_id = (await messages(client, a, b))[0]["_id"]
    r.delete(f"chat:msg:{msg_id}")
    await call(client, "DELETE", f"{CHAT}/mark-as-deleted/{msg_id}/{a.id}/{b.id}/deleteForMe", b)
    cached = r.hgetall(f"chat:msg:{msg_id}")
    assert json.loads(cached[b"body"]) == "short-lived", "the whole message, not a partial hash"
    assert json.loads(cached[b"deletedFor"]) == [b.id]
    assert r.ttl(f"chat:msg:{msg_id}") == -1, "pending: no TTL until persisted"
    await drain()
    assert db["messages"].find_one({"_id": ObjectId(msg_id)})["deletedFor"] == [b.id]
    assert r.ttl(f"chat:msg:{msg_id}") > 0
