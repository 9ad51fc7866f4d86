"""The attacks of the security review, each as a test: ids, cross-site requests, body limits,
sessions, exposure, uploads and the smaller findings."""
from __future__ import annotations

import asyncio
import base64
import json

import aiohttp
import pytest

from mysocial.app import create_app
from mysocial.core import realtime, security
from mysocial.core.appkeys import SIO
from mysocial.users.views import PUBLIC
from tests.conftest import PNG, SocketUser, redis_state, settle, until_disconnected
from tests.social import API, Member, call, connect, join, socket_url

EVIL = "http://evil.example"
PRIVATE = {"blocked", "blockedBy", "notifications", "authId"}


def upper(object_id: str) -> str:
    return object_id.upper()


# 1. Ids are canonical ---------------------------------------------------------------------------

async def test_upper_case_ids_are_refused_before_they_touch_a_key(client, sockets, settings, r):
    """B blocked A: every way A tried around the block with B's id in capitals is a 400, writes
    nothing, and reaches nobody."""
    alice, bobby = await join(client, "alice", "bobby")
    pid = (await call(client, "POST", "/post", bobby, 201, json={"post": "public for now"}))["post"]["_id"]
    await call(client, "PUT", f"/user/block/{alice.id}", bobby)
    b_sock, = await connect(sockets, client, bobby)
    before = redis_state(r)

    answer = await call(client, "POST", "/chat/message", alice, 400, json={
        "receiverId": upper(bobby.id), "receiverUsername": "Bobby", "receiverAvatarColor": "red",
        "receiverProfilePicture": "p.png", "body": "through the block?", "isRead": False})
    assert answer["message"] == "Invalid receiver id"
    for path in (f"/user/profile/{upper(bobby.id)}", f"/user/followers/{upper(bobby.id)}",
                 f"/post/comments/{upper(pid)}", f"/post/reactions/{upper(pid)}"):
        await call(client, "GET", path, alice, 400)
    await call(client, "PUT", f"/user/follow/{upper(alice.id)}", alice, 400)
    await call(client, "PUT", f"/user/follow/{upper(bobby.id)}", alice, 400)
    await call(client, "POST", "/post/comment", alice, 400, json={"userTo": bobby.id, "postId": upper(pid),
                                                                  "comment": "hi"})
    await call(client, "POST", "/post/reaction", alice, 400, json={"userTo": bobby.id, "postId": upper(pid),
                                                                   "type": "like"})
    assert redis_state(r) == before, "no write, and no second copy cached under another spelling"
    await settle(settings, b_sock)
    assert {name for name, _ in b_sock.events} <= {"user online", "test marker"}, "nothing reached bobby"


ID_ROUTES = [
    ("GET", "/user/profile/{id}"), ("GET", "/user/followers/{id}"), ("GET", "/images/{id}"),
    ("PUT", "/user/follow/{id}"), ("PUT", "/user/unfollow/{id}/{id}"), ("PUT", "/user/block/{id}"),
    ("PUT", "/user/unblock/{id}"), ("GET", "/post/reactions/{id}"), ("GET", "/post/comments/{id}"),
    ("GET", "/post/commentsnames/{id}"), ("GET", "/post/single/comment/{id}/{id}"),
    ("GET", "/post/single/reaction/username/alice/{id}"), ("DELETE", "/post/reaction/{id}/like/{{}}"),
    ("PUT", "/post/comment/{id}/{id}"), ("DELETE", "/post/comment/{id}/{id}"), ("PUT", "/post/{id}"),
    ("DELETE", "/post/{id}"), ("PUT", "/notification/{id}"), ("DELETE", "/notification/{id}"),
    ("DELETE", "/images/{id}"), ("GET", "/chat/message/user/{id}"),
    ("DELETE", "/chat/message/mark-as-deleted/{id}/{id}/{id}/deleteForMe"),
    ("GET", "/user/profile/posts/Alice/{id}/123456789012"),
]


@pytest.mark.parametrize("method,path", ID_ROUTES)
async def test_every_id_in_a_path_must_be_canonical(client, r, method, path):
    (alice,) = await join(client, "alice")
    before = redis_state(r)
    body = {"comment": "x", "post": "x"} if method in ("PUT", "POST") else None
    answer = await call(client, method, path.format(id=upper(alice.id)), alice, 400, json=body)
    assert answer["message"].startswith("Invalid")
    assert redis_state(r) == before


# 2. Cross-site requests -------------------------------------------------------------------------

async def test_cross_site_requests_with_the_cookie_are_refused(aiohttp_client, settings, r):
    """Production: a page on another origin posts with the victim's cookie. Refused whatever the
    content type, by Origin or (without one) by Referer; the client's own origin and bearer clients
    pass; a body that is not application/json is never taken for JSON."""
    client = await aiohttp_client(create_app(settings.with_(env="production")))
    response = await client.post(API + "/signup", json={"username": "alice", "password": "secret1",
                                                        "email": "alice@example.com", "avatarColor": "red",
                                                        "avatarImage": PNG})
    victim = await response.json()
    cookie = f"session={response.cookies['session'].value}"  # Secure: the test client (http) would not send it
    client.session.cookie_jar.clear()
    headers = {"Origin": EVIL, "Cookie": cookie}
    before = redis_state(r)
    for path, payload in (("/post", {"post": "forged"}), ("/post/comment", {"comment": "forged"}),
                          ("/post/reaction", {"type": "like"}), ("/chat/message", {"body": "forged"}),
                          ("/images/profile", {"image": PNG})):
        for send in ({"data": json.dumps(payload), "headers": {**headers, "Content-Type": "text/plain"}},
                     {"json": payload, "headers": headers},
                     {"json": payload, "headers": {"Referer": f"{EVIL}/page", "Cookie": cookie}}):
            response = await client.post(API + path, **send)
            assert response.status == 403, (path, send)
            assert await response.json() == {"message": "Cross-site requests are not allowed", "statusCode": 403,
                                             "status": "error"}
    response = await client.get(API + "/signout", headers=headers)
    assert response.status == 403, "signing a victim out from another site"
    assert redis_state(r) == before, "nothing written"

    own = {"Origin": settings.client_url, "Cookie": cookie}
    response = await client.post(API + "/post", data='{"post": "x"}', headers={**own, "Content-Type": "text/plain"})
    assert response.status == 415
    assert (await client.post(API + "/post", json={"post": "mine"}, headers=own)).status == 201
    response = await client.post(API + "/post", json={"post": "a bearer client"},
                                 headers={"Origin": EVIL, "Authorization": f"Bearer {victim['token']}"})
    assert response.status == 201, "a bearer token cannot be forged by another site"


# 3. Body limits ---------------------------------------------------------------------------------

async def raw_request(url: str, head: bytes) -> bytes:
    """Send a request's head only (the promised body never comes) and read the answer's status line."""
    host, port = url.removeprefix("http://").split(":")
    reader, writer = await asyncio.open_connection(host, int(port))
    writer.write(head)
    await writer.drain()
    try:
        return await asyncio.wait_for(reader.readline(), 10)
    finally:
        writer.close()


async def test_large_bodies_are_refused_before_they_are_read(instances, settings):
    """A 47 MB promise to a small route answers 413 at once, before a byte of the body is sent; a
    media route without a session answers 401 the same way; the small routes stop at 64 KB."""
    (api,) = await instances(1)
    head = ("POST {path} HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
            "Content-Length: 49283072\r\n{extra}\r\n")
    line = await raw_request(api.url, head.format(path="/api/v1/reset-password/x", extra="").encode())
    assert line.startswith(b"HTTP/1.1 413"), line
    line = await raw_request(api.url, head.format(path="/api/v1/post/video/post", extra="").encode())
    assert line.startswith(b"HTTP/1.1 401"), line
    alice = await signup_at_url(api.url, "alice")
    bearer = f"Authorization: Bearer {alice['token']}\r\n"
    line = await raw_request(api.url, head.format(path="/api/v1/post", extra=bearer).encode())
    assert line.startswith(b"HTTP/1.1 413"), line
    async with aiohttp.ClientSession() as http:
        big = "x" * (70 * 1024)
        async with http.post(f"{api.url}/api/v1/post", json={"post": big},
                             headers={"Authorization": f"Bearer {alice['token']}"}) as response:
            assert response.status == 413 and (await response.json())["message"] == "Request body is too large"
        picture = "data:image/png;base64," + base64.b64encode(b"\x89PNG\r\n\x1a\n" + b"\0" * 1_000_000).decode()
        async with http.post(f"{api.url}/api/v1/post/image/post", json={"image": picture},
                             headers={"Authorization": f"Bearer {alice['token']}"}) as response:
            assert response.status == 201, "a media route takes a 1 MB image"


async def signup_at_url(url: str, name: str) -> dict:
    from tests.conftest import signup_at

    return await signup_at(url, name)


async def test_reset_password_is_in_the_strict_bucket(aiohttp_client, settings):
    client = await aiohttp_client(create_app(settings.with_(auth_rate_limit=3)))
    statuses = [(await client.post(f"{API}/reset-password/guess{n}", json={"password": "abcd",
                                                                            "confirmPassword": "abcd"})).status
                for n in range(4)]
    assert statuses == [400, 400, 400, 429]


# 4. Sessions end ------------------------------------------------------------------------------

async def test_sign_out_ends_that_session_over_rest_and_sockets(instances, sockets, settings):
    """Two sessions of one user on two instances; signing one out refuses its token at once and
    disconnects its sockets on every instance; the other session carries on."""
    a, b = await instances(2)
    first = await signup_at_url(a.url, "alice")
    async with aiohttp.ClientSession() as http:
        async with http.post(f"{b.url}/api/v1/signin", json={"username": "alice", "password": "secret1"}) as r2:
            second = await r2.json()
    uid = first["user"]["_id"]
    sock_first = await sockets(b.url, token=first["token"], user_id=uid)  # on the other instance
    sock_second = await sockets(a.url, token=second["token"], user_id=uid)
    async with aiohttp.ClientSession() as http:
        async with http.get(f"{a.url}/api/v1/signout", headers={"Authorization": f"Bearer {first['token']}"}) as out:
            assert out.status == 200
        for url in (a.url, b.url):
            async with http.get(f"{url}/api/v1/user/profile",
                                headers={"Authorization": f"Bearer {first['token']}"}) as response:
                assert response.status == 401
                assert (await response.json())["message"] == "Token is invalid. Please login again."
            async with http.get(f"{url}/api/v1/user/profile",
                                headers={"Authorization": f"Bearer {second['token']}"}) as response:
                assert response.status == 200
    await until_disconnected(sock_first)
    assert sock_second.sio.connected
    again = await sockets(a.url, token=first["token"])
    await a.server.app[SIO].emit("test marker", "to every socket")
    await again.wait_for("test marker")
    assert again.events == [("test marker", "to every socket")], "the old token makes a guest: it gets nothing"


async def test_password_change_ends_the_other_sessions_and_a_reset_ends_all(client, sockets, settings, drain):
    (alice,) = await join(client, "alice")
    other = (await call(client, "POST", "/signin", None, json={"username": "alice", "password": "secret1"}))["token"]
    client.session.cookie_jar.clear()
    other_member = Member(alice.id, alice.username, alice.email, other)
    other_sock, mine_sock = await connect(sockets, client, other_member, alice)
    await call(client, "PUT", "/user/profile/change-password", alice, json={
        "currentPassword": "secret1", "newPassword": "secret2", "confirmPassword": "secret2"})
    await call(client, "GET", "/user/profile", other_member, 401)
    await call(client, "GET", "/user/profile", alice)
    await until_disconnected(other_sock)
    assert mine_sock.sio.connected

    from mysocial.auth import cache as auth_cache

    await call(client, "POST", "/forgot-password", None, json={"email": alice.email})
    token = "reset-token-for-the-test"
    await auth_cache.new_reset_token(client.app, token, (await call(client, "GET", "/user/profile", alice))["user"]["authId"])
    await call(client, "POST", f"/reset-password/{token}", None, json={"password": "secret3", "confirmPassword": "secret3"})
    await call(client, "GET", "/user/profile", alice, 401)
    await until_disconnected(mine_sock)
    await call(client, "POST", "/signin", None, json={"username": "alice", "password": "secret3"})


# 5. and 6. Others' private fields; one rule for profile reads ----------------------------------

async def test_others_see_a_public_projection_and_the_owner_the_whole_document(client, sockets, settings):
    alice, bobby = await join(client, "alice", "bobby")
    await call(client, "PUT", f"/user/follow/{bobby.id}", alice)
    await call(client, "PUT", f"/user/follow/{alice.id}", bobby)
    b_sock, = await connect(sockets, client, bobby)
    a_sock, = await connect(sockets, client, alice)

    def public_only(user: dict) -> None:
        assert not PRIVATE & set(user) and "email" not in user, user
        assert set(user) <= set(PUBLIC)

    public_only((await call(client, "GET", f"/user/profile/{alice.id}", bobby))["user"])
    for user in (await call(client, "GET", "/user/all/1", bobby))["users"]:
        public_only(user)
    for user in (await call(client, "GET", "/user/profile/user/suggestions", bobby))["users"]:
        public_only(user)
    for entry in (await call(client, "GET", f"/user/followers/{bobby.id}", bobby))["followers"]:
        public_only(entry["userProfile"])
    for entry in (await call(client, "GET", "/user/following", bobby))["following"]:
        public_only(entry["userProfile"])
    profile = await call(client, "GET", f"/user/profile/posts/Alice/{alice.id}/{(await call(client, 'GET', '/user/profile', alice))['user']['uId']}", bobby)
    public_only(profile["user"])
    [found] = (await call(client, "GET", "/user/profile/search/ali", bobby))["search"]
    assert set(found) == {"_id", "profilePicture", "username", "email", "avatarColor"}, "as the contract says"

    await call(client, "POST", "/images/profile", alice, json={"image": PNG})
    public_only(await b_sock.wait_for("update user"))
    mine = await a_sock.wait_for("update user")
    assert PRIVATE <= set(mine) and mine["email"] == alice.email, "the owner's own sockets get it whole"
    for path in ("/currentuser", "/user/profile"):
        user = (await call(client, "GET", path, alice))["user"]
        assert PRIVATE <= set(user) and user["email"] == alice.email


async def test_a_blocked_user_reads_no_profile_of_the_blocker(client):
    alice, bobby = await join(client, "alice", "bobby")
    uid = (await call(client, "GET", "/user/profile", alice))["user"]["uId"]
    await call(client, "PUT", f"/user/block/{bobby.id}", alice)
    for path in (f"/user/profile/{alice.id}", f"/user/profile/posts/Alice/{alice.id}/{uid}",
                 f"/user/followers/{alice.id}", f"/images/{alice.id}"):
        answer = await call(client, "GET", path, bobby, 404)
        assert answer["message"] == "User not found"


# 7. Uploads are what their bytes say -----------------------------------------------------------

HTML = base64.b64encode(b"<html><form action='https://evil.example'>password?</form></html>").decode()


@pytest.mark.parametrize("path,field", [("/images/profile", "image"), ("/post/image/post", "image"),
                                        ("/post/video/post", "video")])
@pytest.mark.parametrize("label", ["image/html", "image/png.html", "video/html", "image/png", "video/mp4"])
async def test_a_page_is_not_an_upload(client, r, path, field, label):
    (alice,) = await join(client, "alice")
    before = redis_state(r)
    answer = await call(client, "POST", path, alice, 400, json={field: f"data:{label};base64,{HTML}"})
    assert answer["message"] == "File upload: Error occurred. Try again."
    assert redis_state(r) == before


async def test_chat_images_are_checked_too(client):
    alice, bobby = await join(client, "alice", "bobby")
    answer = await call(client, "POST", "/chat/message", alice, 400, json={
        "receiverId": bobby.id, "receiverUsername": "Bobby", "receiverAvatarColor": "red",
        "receiverProfilePicture": "p.png", "selectedImage": f"data:image/png;base64,{HTML}", "isRead": False})
    assert answer["message"] == "File upload: Error occurred. Try again."


async def test_uploads_take_the_detected_type_and_are_served_as_media(client, settings):
    (alice,) = await join(client, "alice")
    png = base64.b64encode(b"\x89PNG\r\n\x1a\n" + b"\0" * 32).decode()
    for label in ("image/png.html", "/image/png", "image/gif"):  # a lying label; the web client's leading slash
        image = (await call(client, "POST", "/images/profile", alice, json={"image": f"data:{label};base64,{png}"}))
        url = (await call(client, "GET", "/user/profile", alice))["user"]["profilePicture"]
        assert url.endswith(".png"), url
        response = await client.get(url.removeprefix(settings.api_url))
        assert response.status == 200 and response.headers["Content-Type"] == "image/png"
        assert response.headers["X-Content-Type-Options"] == "nosniff"
        assert image["message"] == "Image added successfully"
    media = settings.media_dir
    import pathlib

    pathlib.Path(media, "planted.html").write_text("<html>phish</html>")
    assert (await client.get("/media/planted.html")).status == 404, "never served as a page"


# 8. The smaller ones ----------------------------------------------------------------------------

async def test_unknown_username_costs_a_password_check_too(client, monkeypatch):
    checked = []
    real = security._check
    monkeypatch.setattr(security, "_check", lambda password, hashed: checked.append(hashed) or real(password, hashed))
    await join(client, "alice")
    await call(client, "POST", "/signin", None, 400, json={"username": "nobody", "password": "secret1"})
    await call(client, "POST", "/signin", None, 400, json={"username": "alice", "password": "wrong12"})
    assert len(checked) == 2 and all(h.startswith("$2b$") for h in checked), "bcrypt ran for both"


@pytest.mark.parametrize("path", ["/fibo/²", "/fibo/①", "/api/v1/post/all/²", "/api/v1/user/all/①",
                                  "/api/v1/post/images/٣"])
async def test_unicode_digits_are_bad_input(client, path):
    (alice,) = await join(client, "alice")
    response = await client.get(path, headers=alice.headers)
    assert response.status == 400 and (await response.json())["status"] == "error"


async def test_unicode_digits_in_chat_paging(client):
    alice, bobby = await join(client, "alice", "bobby")
    for query in ("?before=²", "?limit=①"):
        await call(client, "GET", f"/chat/message/user/{bobby.id}{query}", alice, 400)


@pytest.mark.parametrize("name", ["    ", "ab\x00cd", "ab\u200bcd", "\u202eabcd", "ab\ncd", "ab cd"])
async def test_usernames_must_be_printable(client, r, name):
    before = redis_state(r)
    response = await client.post(API + "/signup", json={"username": name, "password": "secret1",
                                                        "email": "x@example.com", "avatarColor": "red",
                                                        "avatarImage": PNG})
    assert response.status == 400 and (await response.json())["message"] == "Invalid username"
    assert redis_state(r) == before


@pytest.mark.parametrize("value", [0, 1, 1.0, "true", None])
async def test_booleans_are_true_or_false_only(client, value):
    alice, bobby = await join(client, "alice", "bobby")
    await call(client, "PUT", "/user/profile/settings", alice, 400, json={"messages": value})
    await call(client, "POST", "/chat/message", alice, 400, json={
        "receiverId": bobby.id, "receiverUsername": "Bobby", "receiverAvatarColor": "red",
        "receiverProfilePicture": "p.png", "body": "hi", "isRead": value})


async def test_metrics_are_off_in_production_without_a_token(aiohttp_client, settings):
    client = await aiohttp_client(create_app(settings.with_(env="production")))
    assert (await client.get("/metrics")).status == 404
    client = await aiohttp_client(create_app(settings.with_(env="production", metrics_token="t0ken")))
    assert (await client.get("/metrics")).status == 401
    assert (await client.get("/metrics", headers={"Authorization": "Bearer t0ken"})).status == 200


async def test_socket_connections_are_limited_per_address(aiohttp_client, settings):
    client = await aiohttp_client(create_app(settings.with_(socket_rate_limit=5)))
    (alice,) = await join(client, "alice")
    url = socket_url(client)
    made = []
    for _ in range(5):
        made.append(SocketUser())
        await made[-1].connect(url, token=alice.token)
    import socketio

    refused = socketio.AsyncClient(reconnection=False)
    with pytest.raises(socketio.exceptions.ConnectionError):
        await refused.connect(url, transports=["websocket"], auth={"token": alice.token}, wait_timeout=5)
    for sock in made:
        await sock.close()


async def test_events_per_socket_are_limited(client, sockets, settings):
    alice, bobby = await join(client, "alice", "bobby")
    a_sock, b_sock = await connect(sockets, client, alice, bobby)
    for n in range(100):  # each acknowledged once handled (or dropped): the relays are out before the marker
        await a_sock.sio.call("typing", {"receiverId": bobby.id, "isTyping": n % 2 == 0}, timeout=5)
    await settle(settings, b_sock)
    got = len(b_sock.received("typing"))
    assert realtime.EVENT_BURST <= got <= realtime.EVENT_BURST + 10, f"{got} of 100 relayed"
