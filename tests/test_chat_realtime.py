"""Chat in real time: real Socket.IO clients on two API instances; 200 concurrent sends."""
from __future__ import annotations

import asyncio

import aiohttp
import orjson
from bson import ObjectId

from tests.chat_helpers import CHAT, Person, receiver_fields, signup_at
from tests.conftest import settle

CHAT_EVENTS = ("message received", "chat list", "message read", "message reaction", "add chat users", "typing")


async def api(http: aiohttp.ClientSession, url: str, method: str, path: str, who: Person, status: int = 200,
              **kwargs) -> dict:
    async with http.request(method, url + path, headers=who.headers, **kwargs) as response:
        body = await response.json()
        assert response.status == status, body
        return body


def chat_events(user) -> list:
    return [(name, data) for name, data in user.events if name in CHAT_EVENTS]


async def test_events_reach_only_the_two_participants_across_instances(instances, sockets, settings):
    one, two = await instances(2)
    a, b, c = await signup_at(one.url, "alice"), await signup_at(two.url, "bobby"), await signup_at(two.url, "carol")
    sa = await sockets(one.url, token=a.token, user_id=a.id)
    sb = await sockets(two.url, token=b.token, user_id=b.id)
    sc = await sockets(two.url, token=c.token, user_id=c.id)
    async with aiohttp.ClientSession() as http:
        sent = await api(http, one.url, "POST", CHAT, a, json={**receiver_fields(b), "body": "psst"})
        received = await sb.wait_for("message received", lambda m: m["body"] == "psst")
        assert received["senderId"] == a.id and received["conversationId"] == sent["conversationId"]
        assert received["seq"] == 1
        listed = await sb.wait_for("chat list", lambda m: m["_id"] == received["_id"])
        assert listed["unreadCount"] == 1
        assert (await sa.wait_for("chat list", lambda m: m["_id"] == received["_id"]))["unreadCount"] == 0
        await sa.wait_for("message received", lambda m: m["_id"] == received["_id"])

        await api(http, two.url, "PUT", f"{CHAT}/reaction", b, json={
            "conversationId": sent["conversationId"], "messageId": received["_id"], "reaction": "love", "type": "add"})
        for user in (sa, sb):
            reacted = await user.wait_for("message reaction", lambda m: m["reaction"])
            assert reacted["reaction"] == [{"senderName": "Bobby", "type": "love"}]
        await api(http, two.url, "PUT", f"{CHAT}/mark-as-read", b, json={"senderId": b.id, "receiverId": a.id})
        for user in (sa, sb):
            assert (await user.wait_for("message read", lambda m: m["isRead"]))["_id"] == received["_id"]
        await sb.wait_for("chat list", lambda m: m["unreadCount"] == 0 and m["isRead"])
        await api(http, one.url, "POST", f"{CHAT}/add-chat-users", a, json={"userOne": "Alice", "userTwo": "Bobby"})
        for user in (sa, sb):
            assert await user.wait_for("add chat users") == [{"userOne": "Alice", "userTwo": "Bobby"}]
        await api(http, one.url, "DELETE",
                  f"{CHAT}/mark-as-deleted/{received['_id']}/{a.id}/{b.id}/deleteForEveryone", a)
        for user in (sa, sb):
            await user.wait_for("message read", lambda m: m["deleteForEveryone"] and m["body"] == "")
            await user.wait_for("chat list", lambda m: m["deleteForEveryone"])

    await settle(settings, sa, sb, sc)
    assert chat_events(sc) == [], "carol sees nothing of alice and bobby's chat"


async def test_unread_counts_reach_every_device_of_the_reader(instances, sockets, settings):
    one, two = await instances(2)
    a, b = await signup_at(one.url, "alice"), await signup_at(two.url, "bobby")
    phone = await sockets(one.url, token=b.token, user_id=b.id)
    laptop = await sockets(two.url, token=b.token, user_id=b.id)
    async with aiohttp.ClientSession() as http:
        for text in ("one", "two"):
            await api(http, one.url, "POST", CHAT, a, json={**receiver_fields(b), "body": text})
        for device in (phone, laptop):
            await device.wait_for("chat list", lambda m: m["body"] == "two" and m["unreadCount"] == 2)
        # Read on the phone (through instance one): the laptop (on instance two) hears it at once.
        await api(http, one.url, "PUT", f"{CHAT}/mark-as-read", b, json={"senderId": a.id, "receiverId": b.id})
        for device in (phone, laptop):
            await device.wait_for("chat list", lambda m: m["unreadCount"] == 0)
        conversations = await api(http, two.url, "GET", f"{CHAT}/conversation-list", b)
        assert [m["unreadCount"] for m in conversations["list"]] == [0]


async def test_typing_goes_to_the_receiver_only(instances, sockets, settings, r):
    one, two = await instances(2)
    a, b, c = await signup_at(one.url, "alice"), await signup_at(two.url, "bobby"), await signup_at(two.url, "carol")
    sa = await sockets(one.url, token=a.token, user_id=a.id)
    sa2 = await sockets(two.url, token=a.token, user_id=a.id)
    sb = await sockets(two.url, token=b.token, user_id=b.id)
    sc = await sockets(one.url, token=c.token, user_id=c.id)
    # The sender is whoever owns the socket, not what the payload claims.
    await sa.sio.emit("typing", {"receiverId": b.id, "isTyping": True, "senderId": c.id})
    assert await sb.wait_for("typing") == {"senderId": a.id, "senderName": "Alice", "isTyping": True}
    await sa.sio.emit("typing", {"receiverId": b.id, "isTyping": False})
    await sb.wait_for("typing", lambda t: t["isTyping"] is False)
    for bad in (None, "x", {"receiverId": "nope"}, {"receiverId": a.id}):
        await sa.sio.emit("typing", bad)
    async with aiohttp.ClientSession() as http:
        await api(http, two.url, "PUT", f"/api/v1/user/block/{a.id}", b)
    await sa.sio.emit("typing", {"receiverId": b.id, "isTyping": True})
    await sb.sio.emit("typing", {"receiverId": a.id, "isTyping": True})
    await settle(settings, sa, sa2, sb, sc)
    assert len(sb.received("typing")) == 2, "nothing after the block"
    assert sa.received("typing") == sa2.received("typing") == sc.received("typing") == []


async def test_200_concurrent_messages_stored_once_each_in_send_order(instances, settings, r, db, drain):
    one, two = await instances(2)
    a, b = await signup_at(one.url, "alice"), await signup_at(two.url, "bobby")
    async with aiohttp.ClientSession() as http:

        async def send(n: int) -> str:
            sender, receiver, url = (a, b, one.url) if n % 2 else (b, a, two.url)
            body = await api(http, url, "POST", CHAT, sender, json={**receiver_fields(receiver), "body": f"m{n}"})
            return body["conversationId"]

        conv_ids = await asyncio.gather(*(send(n) for n in range(200)))
        assert len(set(conv_ids)) == 1, "every send found or created the same conversation"
        conv_id = conv_ids[0]

        ranked = r.zrange(f"chat:conv:{conv_id}:msgs", 0, -1, withscores=True)
        assert [int(score) for _, score in ranked] == list(range(1, 201))
        in_redis = {}
        for member, score in ranked:
            fields = {k.decode(): orjson.loads(v) for k, v in r.hgetall(f"chat:msg:{member.decode()}").items()}
            assert fields["seq"] == int(score)
            in_redis[fields["seq"]] = (member.decode(), fields["body"])
        assert sorted(body for _, body in in_redis.values()) == sorted(f"m{n}" for n in range(200))
        assert orjson.loads(r.hget(f"chat:conv:{conv_id}", "seq")) == 200

        await drain()
        stored = list(db["messages"].find({"conversationId": ObjectId(conv_id)}))
        assert len(stored) == 200 and db["messages"].count_documents({}) == 200
        assert {d["seq"]: (str(d["_id"]), d["body"]) for d in stored} == in_redis
        conv = db["conversations"].find_one({"_id": ObjectId(conv_id)})
        assert conv["seq"] == 200 and str(conv["lastMessageId"]) == in_redis[200][0]

        # Both readers get them in the order the server assigned, page after page.
        newest = (await api(http, two.url, "GET", f"{CHAT}/user/{a.id}?limit=100", b))["messages"]
        oldest = (await api(http, one.url, "GET", f"{CHAT}/user/{b.id}?limit=100&before=101", a))["messages"]
        assert [(m["seq"], m["_id"]) for m in oldest + newest] == [(s, in_redis[s][0]) for s in range(1, 201)]
        unread = (await api(http, two.url, "GET", f"{CHAT}/conversation-list", b))["list"][0]["unreadCount"]
        assert unread == 100


async def test_open_chat_is_closed_when_the_last_socket_goes(instances, sockets, settings, r):
    """A chat left open by a client that vanished must not mark later messages read."""
    from mysocial.chat import cache as chat_cache

    a, b = await instances(2)
    alice, bobby = await signup_at(a.url, "alice"), await signup_at(a.url, "bobby")
    first = await sockets(a.url, token=alice.token, user_id=alice.id)
    second = await sockets(b.url, token=alice.token, user_id=alice.id)
    async with aiohttp.ClientSession() as http:
        await api(http, a.url, "POST", f"{CHAT}/add-chat-users", alice, json={"userOne": alice.id, "userTwo": bobby.id})
    assert r.sismember(chat_cache.open_key(alice.id), bobby.id)
    await first.close()
    watcher = await sockets(a.url, token=bobby.token, user_id=bobby.id)
    await watcher.wait_for("user online", lambda names: names == ["Alice", "Bobby"])
    assert r.sismember(chat_cache.open_key(alice.id), bobby.id), "alice still has a socket open"
    await second.close()
    await watcher.wait_for("user online", lambda names: names == ["Bobby"])
    assert not r.exists(chat_cache.open_key(alice.id))
