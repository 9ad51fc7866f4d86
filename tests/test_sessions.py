"""Sessions a user can see and end; access tokens that expire and refresh tokens that rotate."""
from __future__ import annotations

import asyncio
import time

import jwt
import pytest

from mysocial.core import security
from mysocial.sessions import service
from tests.conftest import create_app, until_disconnected
from tests.social import API, Member, call, connect, join

INVALID = "Token is invalid. Please login again."


async def sign_in(client, name: str = "alice", agent: str = "test-agent") -> dict:
    body = await call(client, "POST", "/signin", None, json={"username": name, "password": "secret1"},
                      headers={"User-Agent": agent})
    client.session.cookie_jar.clear()
    return body


def member(body: dict) -> Member:
    user = body["user"]
    return Member(user["_id"], user["username"], user["email"], body["token"])


async def refresh(client, token, status: int = 200) -> dict:
    return await call(client, "POST", "/token/refresh", None, status, json={"refreshToken": token})


async def test_sign_in_answers_a_refresh_token_that_rotates_on_every_use(client):
    (alice,) = await join(client, "alice")
    first = await sign_in(client)
    assert first["refreshToken"] and first["refreshToken"] != first["token"]
    second = await refresh(client, first["refreshToken"])
    assert set(second) == {"token", "refreshToken"} and second["refreshToken"] != first["refreshToken"]
    me = await call(client, "GET", "/user/profile", Member(alice.id, "", "", second["token"]))
    assert me["user"]["_id"] == alice.id
    third = await refresh(client, second["refreshToken"])
    assert third["refreshToken"] not in (first["refreshToken"], second["refreshToken"])


async def test_concurrent_refreshes_agree_inside_the_grace_window(client):
    await join(client, "alice")
    first = await sign_in(client)
    answers = await asyncio.gather(*(refresh(client, first["refreshToken"]) for _ in range(4)))
    assert len({a["refreshToken"] for a in answers}) == 1, "every concurrent refresh hands out the same next token"
    later = await refresh(client, first["refreshToken"])
    assert later["refreshToken"] == answers[0]["refreshToken"], "still inside the 30 s window"
    await refresh(client, answers[0]["refreshToken"])


async def test_a_spent_refresh_token_outside_the_grace_window_ends_the_whole_family(aiohttp_client, settings, sockets):
    client = await aiohttp_client(create_app(settings.with_(refresh_grace=0)))
    (alice,) = await join(client, "alice")
    stolen = await sign_in(client)
    rotated = await refresh(client, stolen["refreshToken"])
    holder = Member(alice.id, alice.username, alice.email, rotated["token"])
    (sock,) = await connect(sockets, client, holder)
    answer = await refresh(client, stolen["refreshToken"], 401)
    assert answer["message"] == INVALID
    await call(client, "GET", "/user/profile", holder, 401)
    await refresh(client, rotated["refreshToken"], 401)
    await until_disconnected(sock)
    await call(client, "GET", "/user/profile", alice)  # the user's other sessions carry on


async def test_forged_and_malformed_refresh_tokens_change_nothing(client, r):
    await join(client, "alice")
    signed = await sign_in(client)
    session_id, generation, mac = signed["refreshToken"].split(".")
    before = r.hgetall(f"session:{session_id}")
    for forged in (f"{session_id}.{generation}.{mac[:-2]}xx", f"{session_id}.7.{mac}",
                   f"{session_id.upper()}.{generation}.{mac}", "not-a-token", f"{session_id}.-1.{mac}",
                   f"{session_id}.٣.{mac}", f"{session_id}.{generation}.é"):
        assert (await refresh(client, forged, 401))["message"] == INVALID
    for bad, message in ((None, "Refresh token must be of type string"), (12, "Refresh token must be of type string"),
                         ("", "Refresh token is a required field"), ("x" * 201, "Refresh token is invalid")):
        assert (await refresh(client, bad, 400))["message"] == message
    await call(client, "POST", "/token/refresh", None, 400, json={})
    assert r.hgetall(f"session:{session_id}") == before, "a forged token neither rotates nor revokes"
    await refresh(client, signed["refreshToken"])


async def test_a_signed_out_session_refreshes_no_more(client):
    await join(client, "alice")
    signed = await sign_in(client)
    await call(client, "GET", "/signout", member(signed))
    await refresh(client, signed["refreshToken"], 401)


async def test_access_tokens_expire_and_the_session_cookie_renews_itself(client, settings):
    (alice,) = await join(client, "alice")
    claims = jwt.decode(alice.token, options={"verify_signature": False})
    assert claims["exp"] - claims["iat"] == settings.token_ttl == 2 * 3600
    expired = jwt.encode({**claims, "iat": claims["iat"] - 3 * 3600, "exp": int(time.time()) - 5},
                         settings.jwt_secret, algorithm="HS256")
    await call(client, "GET", "/user/profile", Member(alice.id, "", "", expired), 401)
    cookie = {"Cookie": f"{security.COOKIE}={security.seal_cookie(settings, expired)}"}
    response = await client.get(API + "/currentuser", headers=cookie)
    body = await response.json()
    assert response.status == 200 and body["isUser"] is True, body
    renewed = security.open_cookie(settings, response.cookies[security.COOKIE].value)
    assert renewed == body["token"] and renewed != expired
    assert jwt.decode(renewed, settings.jwt_secret, algorithms=["HS256"])["exp"] > time.time() + 3600
    assert response.cookies[security.COOKIE]["max-age"] == str(settings.refresh_ttl)
    client.session.cookie_jar.clear()
    await call(client, "GET", "/user/profile", Member(alice.id, "", "", renewed))
    fresh = await client.get(API + "/user/profile", headers={"Cookie": f"{security.COOKIE}={security.seal_cookie(settings, renewed)}"})
    assert fresh.status == 200 and security.COOKIE not in fresh.cookies, "renewed only when under half its life"


async def test_a_cookie_of_any_characters_is_a_401(client):
    for value in ("x~é", "~", "é"):
        response = await client.get(API + "/user/profile", headers={"Cookie": f"{security.COOKIE}={value}"})
        assert response.status == 401, await response.text()


async def test_an_expired_cookie_of_an_ended_session_is_refused(client, settings):
    (alice,) = await join(client, "alice")
    claims = jwt.decode(alice.token, options={"verify_signature": False})
    expired = jwt.encode({**claims, "exp": int(time.time()) - 5}, settings.jwt_secret, algorithm="HS256")
    await call(client, "GET", "/signout", alice)
    response = await client.get(API + "/user/profile",
                                headers={"Cookie": f"{security.COOKIE}={security.seal_cookie(settings, expired)}"})
    assert response.status == 401 and security.COOKIE not in response.cookies


async def test_sessions_are_listed_and_ended_one_by_one_or_all_but_this_one(client, sockets, r):
    (alice, bobby) = await join(client, "alice", "bobby")
    phone = member(await sign_in(client, agent="phone"))
    laptop = member(await sign_in(client, agent="laptop"))
    listed = (await call(client, "GET", "/sessions", laptop))["sessions"]
    assert [s["userAgent"] for s in listed][:2] == ["laptop", "phone"] and len(listed) == 3
    assert [s["current"] for s in listed] == [True, False, False]
    assert set(listed[0]) == {"id", "createdAt", "lastUsedAt", "userAgent", "ip", "current"}, "no salt, no token"
    phone_session = listed[1]["id"]
    assert listed[0]["ip"] == "127.0.0.1"

    await call(client, "DELETE", f"/sessions/{phone_session}", bobby, 404)  # not his: not found, not ended
    await call(client, "GET", "/user/profile", phone)
    for bad in (phone_session.upper(), "x", phone_session + "0"):
        await call(client, "DELETE", f"/sessions/{bad}", laptop, 400)
    await call(client, "GET", "/sessions", None, 401)

    phone_sock, first_sock = await connect(sockets, client, phone, alice)
    ended = await call(client, "DELETE", f"/sessions/{phone_session}", laptop)
    assert ended == {"message": "Session ended", "ended": 1}
    await call(client, "GET", "/user/profile", phone, 401)
    await until_disconnected(phone_sock)
    await call(client, "DELETE", f"/sessions/{phone_session}", laptop, 404)

    assert (await call(client, "DELETE", "/sessions", laptop)) == {"message": "Other sessions ended", "ended": 1}
    await call(client, "GET", "/user/profile", alice, 401)
    await until_disconnected(first_sock)
    assert [s["current"] for s in (await call(client, "GET", "/sessions", laptop))["sessions"]] == [True]
    await call(client, "GET", "/user/profile", bobby)  # another user's sessions are untouched


async def test_at_most_ten_sessions_are_kept(client):
    (alice,) = await join(client, "alice")
    signed = [member(await sign_in(client, agent=f"device {n}")) for n in range(service.MAX_PER_USER)]
    listed = (await call(client, "GET", "/sessions", signed[-1]))["sessions"]
    assert len(listed) == service.MAX_PER_USER
    await call(client, "GET", "/user/profile", alice, 401)  # the least recently used ended
    await call(client, "GET", "/user/profile", signed[0])


@pytest.mark.parametrize("path", ["/sessions", "/sessions/" + "a" * 24])
async def test_session_routes_need_a_session(client, path):
    await call(client, "DELETE", path, None, 401)
