"""The Chatty web client's rough edges, at the protocol level: HTTP and Socket.IO clients that
behave as the web client does (one cookie jar per tab, a socket that reconnects at once on every
disconnect and connect error, `setup` once signed in)."""
from __future__ import annotations

import asyncio

import aiohttp
import socketio

from tests.conftest import PNG, redis_state
from tests.social import call, join

ORIGIN = {"Origin": "http://localhost:3000"}


class Tab:
    """A browser tab of the web client: its cookie jar, its HTTP calls, and its socket, which
    reconnects with the tab's cookie of the moment whenever it is disconnected."""

    def __init__(self, url: str):
        self.url = url
        self.http = aiohttp.ClientSession(cookie_jar=aiohttp.CookieJar(unsafe=True), headers=ORIGIN)
        self.events: list[tuple[str, object]] = []
        self.connects = self.refusals = 0
        self.sio: socketio.AsyncClient | None = None
        self.connected = asyncio.Event()
        self._loop: asyncio.Task | None = None
        self._arrived = asyncio.Event()
        self.closing = False

    def cookie(self) -> str:
        return "; ".join(f"{c.key}={c.value}" for c in self.http.cookie_jar)

    async def request(self, method: str, path: str, **kwargs) -> dict:
        async with self.http.request(method, f"{self.url}/api/v1{path}", **kwargs) as response:
            body = await response.json()
            assert response.status < 300, body
            return body

    def open_socket(self) -> None:
        self._loop = asyncio.create_task(self._run())

    async def _run(self) -> None:
        while not self.closing:  # the client's `disconnect` and `connect_error` handlers call connect() at once
            sio = socketio.AsyncClient(reconnection=False)
            sio.on("*", self._record)
            self.connected.clear()
            try:
                await sio.connect(self.url, transports=["websocket"], headers={"Cookie": self.cookie()},
                                  wait_timeout=5)
            except socketio.exceptions.ConnectionError:
                self.refusals += 1
                continue
            self.sio = sio
            self.connects += 1
            self.connected.set()
            await sio.wait()

    async def _record(self, event, *args):
        self.events.append((event, args[0] if len(args) == 1 else args))
        self._arrived.set()

    async def reconnected(self, after: int) -> None:
        """Wait until the socket has connected more than `after` times and is up."""
        while self.connects <= after or not self.connected.is_set():
            await asyncio.wait_for(self.connected.wait(), 5)
            if self.connects <= after:
                await asyncio.sleep(0.01)  # the old connection's event is still set; poll for the new one

    def received(self, event: str) -> list:
        return [data for name, data in self.events if name == event]

    async def close(self) -> None:
        self.closing = True
        if self.sio:
            await self.sio.disconnect()
        if self._loop:
            await asyncio.wait_for(self._loop, 5)
        await self.http.close()


def socket_url(client) -> str:
    return f"http://127.0.0.1:{client.server.port}"


async def test_remove_chat_users_without_user_two_is_not_an_error(client, r):
    """Until its chat list has loaded the client posts remove-chat-users with no userTwo (6-7 times a
    session): 200 `Users removed`, as the original answered, and nothing changes."""
    (alice,) = await join(client, "alice")
    before = redis_state(r)
    for body in ({"userOne": "Alice"}, {"userOne": "Alice", "userTwo": ""}, {"userOne": "Alice", "userTwo": None}):
        assert await call(client, "POST", "/chat/message/remove-chat-users", alice, json=body) == {
            "message": "Users removed"}
    assert redis_state(r) == before
    answer = await call(client, "POST", "/chat/message/add-chat-users", alice, 400, json={"userOne": "Alice"})
    assert answer["message"] == "User two is a required field", "opening a chat still needs the other user"


async def test_a_signed_out_tab_makes_one_handshake_and_stays_connected(client):
    """Refused, the client reconnected at once, forever (~80 handshakes a second). A guest socket is
    accepted once and stays up: an acknowledged round trip later it has connected once, never failed."""
    tab = Tab(socket_url(client))
    try:
        tab.open_socket()
        await asyncio.wait_for(tab.connected.wait(), 5)
        for _ in range(20):
            assert await tab.sio.call("join room", {}, timeout=5) is None
        assert tab.connects == 1 and tab.refusals == 0
        assert tab.events == [], "a guest receives nothing"
    finally:
        await tab.close()


async def test_the_socket_follows_the_tab_from_one_user_to_the_next(client, settings):
    """Signed in as Alice, signed out, signed in as Bobby in the same tab without a reload: the
    socket carries Bobby from then on — his events arrive, Alice's do not, and a post Bobby
    blocked does not come into his feed."""
    carol, mallory = await join(client, "carol", "malor")
    tab = Tab(socket_url(client))
    try:
        alice = (await tab.request("POST", "/signup", json={"username": "alice", "password": "secret1",
                                                            "email": "alice@example.com", "avatarColor": "red",
                                                            "avatarImage": PNG}))["user"]
        tab.open_socket()
        await asyncio.wait_for(tab.connected.wait(), 5)
        await tab.request("GET", "/notifications")
        await tab.sio.emit("setup", {"userId": "Alice"})
        await call(client, "PUT", f"/user/follow/{alice['_id']}", carol)
        deadline = asyncio.get_running_loop().time() + 5
        while not tab.received("add follower"):
            assert asyncio.get_running_loop().time() < deadline, "Alice's socket got her event"
            await asyncio.sleep(0.01)
        count = tab.connects

        await tab.request("GET", "/signout")
        await tab.reconnected(count)  # the server ended the session's socket; the client came back, a guest
        bobby = (await tab.request("POST", "/signup", json={"username": "bobby", "password": "secret1",
                                                            "email": "bobby@example.com", "avatarColor": "red",
                                                            "avatarImage": PNG}))["user"]
        await tab.request("PUT", f"/user/block/{mallory.id}")
        await tab.request("GET", "/notifications")
        count = tab.connects
        await tab.sio.emit("setup", {"userId": "Bobby"})  # what the header does once signed in
        await tab.reconnected(count)
        tab.events.clear()

        await call(client, "PUT", f"/user/follow/{bobby['_id']}", carol)
        await call(client, "PUT", f"/user/unfollow/{alice['_id']}/{carol.id}", carol)
        await call(client, "POST", "/post", mallory, 201, json={"post": "blocked by bobby"})
        await call(client, "POST", "/post", carol, 201, json={"post": "for everyone"})
        deadline = asyncio.get_running_loop().time() + 5
        while not any(p["post"] == "for everyone" for p in tab.received("add post")):
            assert asyncio.get_running_loop().time() < deadline, tab.events
            await asyncio.sleep(0.01)
        follows = tab.received("add follower")
        assert [f["_id"] for f in follows] == [bobby["_id"]], "Bobby's event"
        assert tab.received("remove follower") == [], "not Alice's"
        assert [p["post"] for p in tab.received("add post")] == ["for everyone"], "nothing Bobby blocked"
        feed = await tab.request("GET", "/post/all/1")
        assert [p["post"] for p in feed["posts"]] == ["for everyone"]
    finally:
        await tab.close()


async def test_a_block_can_be_undone_from_the_followers_page(client):
    """The client offers Unblock only on the blocker's own Followers page, by the blocker's `blocked`
    list; a block ends follows both ways, so that page keeps the users one blocked, flagged."""
    alice, bobby, carol = await join(client, "alice", "bobby", "carol")
    for follower in (bobby, carol):
        await call(client, "PUT", f"/user/follow/{alice.id}", follower)
    await call(client, "PUT", f"/user/block/{bobby.id}", alice)
    listed = (await call(client, "GET", f"/user/followers/{alice.id}", alice))["followers"]
    assert [(f["_id"], f.get("blocked", False)) for f in listed] == [(carol.id, False), (bobby.id, True)]
    me = (await call(client, "GET", "/user/profile", alice))["user"]
    assert me["blocked"] == [bobby.id], "what the page's Unblock button reads"
    others = (await call(client, "GET", f"/user/followers/{alice.id}", carol))["followers"]
    assert [f["_id"] for f in others] == [carol.id], "nobody else sees whom Alice blocked"
    await call(client, "PUT", f"/user/unblock/{bobby.id}", alice)
    listed = (await call(client, "GET", f"/user/followers/{alice.id}", alice))["followers"]
    assert [f["_id"] for f in listed] == [carol.id]


async def test_gif_posts_are_listed_with_the_image_posts(client, r, drain):
    """The original lists posts that have an image or a gifUrl in /post/images."""
    (alice,) = await join(client, "alice")
    gif = (await call(client, "POST", "/post", alice, 201, json={"post": "gif", "gifUrl": "https://g.example/x.gif"}))
    pid = gif["post"]["_id"]
    await call(client, "POST", "/post", alice, 201, json={"post": "text only"})
    assert [p["_id"] for p in (await call(client, "GET", "/post/images/1", alice))["posts"]] == [pid]
    await call(client, "PUT", f"/post/{pid}", alice, json={"post": "no more gif", "gifUrl": ""})
    assert (await call(client, "GET", "/post/images/1", alice))["posts"] == []
    await call(client, "PUT", f"/post/{pid}", alice, json={"gifUrl": "https://g.example/y.gif"})
    assert [p["_id"] for p in (await call(client, "GET", "/post/images/1", alice))["posts"]] == [pid]
    await drain()
    r.flushall()  # the lists are rebuilt from MongoDB by the same rule
    assert [p["_id"] for p in (await call(client, "GET", "/post/images/1", alice))["posts"]] == [pid]
