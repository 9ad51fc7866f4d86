"""Socket.IO across two API instances sharing one Redis."""
from __future__ import annotations

import aiohttp

from mysocial.core.appkeys import SIO
from mysocial.core.realtime import room
from tests.conftest import PNG, settle, signup_at


async def alice_and_bob(instances, sockets):
    """Two instances; alice signed up and connected on the first, bob on the second."""
    a, b = await instances(2)
    alice = await signup_at(a.url, "alice")
    bob = await signup_at(b.url, "bobby")
    alice_socket = await sockets(a.url, token=alice["token"], user_id=alice["user"]["_id"])
    bob_socket = await sockets(b.url, token=bob["token"], user_id=bob["user"]["_id"])
    return a, b, alice, bob, alice_socket, bob_socket


async def test_event_emitted_on_b_reaches_socket_on_a(instances, sockets, settings):
    a, b, alice, bob, alice_socket, bob_socket = await alice_and_bob(instances, sockets)
    await b.server.app[SIO].emit("update user", {"hello": "alice"}, to=room(alice["user"]["_id"]))
    assert await alice_socket.wait_for("update user") == {"hello": "alice"}
    await settle(settings, bob_socket)
    assert bob_socket.received("update user") == [], "an event for alice's room is not seen by bob"


async def test_sockets_without_a_session_are_guests_that_receive_nothing(instances, sockets, settings):
    """No token, a tampered one or nonsense: the socket is accepted (a refused client reconnects at
    once, forever) but joins no room, so no event reaches it, and what it sends is ignored."""
    (a,) = await instances(1)
    alice = await signup_at(a.url, "alice")
    guests = [await sockets(a.url, token=token) for token in (None, alice["token"][:-3] + "abc", "nonsense")]
    alice_socket = await sockets(a.url, token=alice["token"], user_id=alice["user"]["_id"])
    await alice_socket.wait_for("user online", lambda names: names == ["Alice"])
    async with aiohttp.ClientSession() as http:
        async with http.post(f"{a.url}/api/v1/post", json={"post": "for the signed-in only"},
                             headers={"Authorization": f"Bearer {alice['token']}"}) as response:
            assert response.status == 201
    await alice_socket.wait_for("add post")
    for guest in guests:
        await guest.sio.emit("typing", {"receiverId": alice["user"]["_id"], "isTyping": True})
    await settle(settings, alice_socket)
    assert alice_socket.received("typing") == [], "a guest's events are ignored"
    await a.server.app[SIO].emit("test marker", "to every socket")  # after anything sent before it
    for guest in guests:
        await guest.wait_for("test marker")
        assert guest.events == [("test marker", "to every socket")], "not an event, not even 'user online'"


async def test_cookie_session_connects(instances, sockets):
    (a,) = await instances(1)
    async with aiohttp.ClientSession() as http:
        async with http.post(f"{a.url}/api/v1/signup", json={
            "username": "carol", "password": "secret1", "email": "carol@example.com",
            "avatarColor": "red", "avatarImage": PNG,
        }) as response:
            cookie = response.cookies["session"].value
            user_id = (await response.json())["user"]["_id"]
    user = await sockets(a.url, cookie=f"session={cookie}", user_id=user_id)
    assert "Carol" in await user.wait_for("user online", lambda names: "Carol" in names)


async def test_presence_is_the_same_from_both_instances(instances, sockets, settings):
    a, b, alice, bob, watcher_a, watcher_b = await alice_and_bob(instances, sockets)
    both = lambda names: names == ["Alice", "Bobby"]
    await watcher_a.wait_for("user online", both)
    await watcher_b.wait_for("user online", both)

    await watcher_b.close()
    await watcher_a.wait_for("user online", lambda names: names == ["Alice"])
    # A new socket on instance B sees the same list as instance A.
    late = await sockets(b.url, token=alice["token"], user_id=alice["user"]["_id"])
    await late.sio.emit("setup", {"userId": "Alice"})
    assert await late.wait_for("user online", lambda names: names == ["Alice"]) == ["Alice"]


async def test_users_of_a_crashed_instance_drop_out_of_presence(instances, sockets, r):
    """An instance that dies without cleaning up stops beating; its users are no longer online."""
    from mysocial.core import presence

    a, b = await instances(2)
    alice = await signup_at(a.url, "alice")
    bobby = await signup_at(b.url, "bobby")
    await sockets(b.url, token=bobby["token"], user_id=bobby["user"]["_id"])
    watcher = await sockets(a.url, token=alice["token"], user_id=alice["user"]["_id"])
    await watcher.wait_for("user online", lambda names: names == ["Alice", "Bobby"])
    # B "crashes": its sockets and its presence hash stay in Redis, but its heartbeat is old.
    r.zadd(presence.LIVE, {b.server.app[presence.INSTANCE]: 0})
    late = await sockets(a.url, token=alice["token"], user_id=alice["user"]["_id"])
    await late.sio.emit("setup", {})
    assert await late.wait_for("user online", lambda names: names == ["Alice"]) == ["Alice"]


async def test_events_from_one_instance_arrive_in_order_and_binary_payloads_still_work(instances, sockets, settings):
    """B's manager publishes what waits in one batch: fifty emits arrive on A in emit order. A
    payload with bytes takes python-socketio's own path (attachments) and arrives whole."""
    a, b = await instances(2)
    alice = await signup_at(a.url, "alice")
    alice_socket = await sockets(a.url, token=alice["token"], user_id=alice["user"]["_id"])
    to = room(alice["user"]["_id"])
    for n in range(50):
        await b.server.app[SIO].emit("update user", {"n": n}, to=to)
    await b.server.app[SIO].emit("update user", {"n": 50, "blob": b"\x00\xffbytes"}, to=to)
    last = await alice_socket.wait_for("update user", lambda d: d["n"] == 50)
    assert last["blob"] == b"\x00\xffbytes"
    assert [d["n"] for d in alice_socket.received("update user")] == list(range(51))
