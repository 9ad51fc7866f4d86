"""Sign up, sign in, sign out, current user, forgot and reset password."""
from __future__ import annotations

import time

import bcrypt
import jwt
import pytest
from bson import ObjectId

from mysocial.core.mail import read_outbox
from mysocial.core.writepath import PENDING
from tests.conftest import PNG, bearer, data_keys, signup

ERROR = {"status": "error"}


def error(body: dict, message: str, code: int = 400) -> None:
    assert body == {"message": message, "statusCode": code, "status": "error"}


async def test_signup_answers_from_redis_before_mongodb(client, db, r, drain):
    body = await signup(client, "alice", email="Alice@Example.com")
    user = body["user"]
    assert body["message"] == "User created successfully"
    assert user["username"] == "Alice" and user["email"] == "alice@example.com"
    assert user["notifications"] == {"messages": True, "reactions": True, "comments": True, "follows": True}
    assert len(user["uId"]) == 12 and user["uId"].isdigit()
    assert "password" not in user and not any(b"$2b$" in v for v in r.hgetall(f"user:{user['_id']}").values())
    assert db["users"].find_one({"_id": ObjectId(user["_id"])}) is None, "not persisted yet"

    response = await client.get("/api/v1/currentuser")
    assert (await response.json())["user"]["_id"] == user["_id"]

    await drain()
    stored = db["users"].find_one({"_id": ObjectId(user["_id"])})
    assert stored["username"] == "Alice" and stored["authId"] == ObjectId(user["authId"])
    auth = db["auth"].find_one({"_id": ObjectId(user["authId"])})
    assert bcrypt.checkpw(b"secret1", auth["password"].encode())
    assert r.hlen(PENDING) == 0


@pytest.mark.parametrize("patch, message", [
    # the original's messages, rule for rule (Joi's own where its scheme names none)
    ({"username": None}, '"username" is required'),
    ({"username": ""}, "Username is a required field"),
    ({"username": "abc"}, "Invalid username"),
    ({"username": "abcdefghi"}, "Invalid username"),
    ({"username": 1234}, "Username must be of type string"),
    ({"password": None}, '"password" is required'),
    ({"password": ""}, "Password is a required field"),
    ({"password": "abc"}, "Invalid password"),
    ({"password": 12345}, "Password must be of type string"),
    ({"email": "not-an-email"}, "Email must be valid"),
    ({"email": None}, '"email" is required'),
    ({"email": ""}, "Email is a required field"),
    ({"email": 5}, "Email must be of type string"),
    ({"avatarColor": None}, "Avatar color is required"),
    ({"avatarColor": ""}, '"avatarColor" is not allowed to be empty'),
    ({"avatarImage": None}, "Avatar image is required"),
    ({"avatarImage": ""}, '"avatarImage" is not allowed to be empty'),
    ({"avatarImage": "data:text/plain;base64,aGk="}, "File upload: Error occurred. Try again."),
])
async def test_signup_rejects_bad_input_and_writes_nothing(client, r, patch, message):
    payload = {"username": "alice", "password": "secret1", "email": "a@example.com",
               "avatarColor": "red", "avatarImage": PNG}
    for key, value in patch.items():
        if value is None:
            payload.pop(key)
        else:
            payload[key] = value
    response = await client.post("/api/v1/signup", json=payload)
    assert response.status == 400
    error(await response.json(), message)
    assert data_keys(r) == set()


async def test_signup_rejects_non_json(client, r):
    response = await client.post("/api/v1/signup", data=b"{nope", headers={"Content-Type": "application/json"})
    assert response.status == 400 and (await response.json())["status"] == "error"
    assert data_keys(r) == set()


async def test_duplicate_username_or_email_is_refused(client, drain, r):
    await signup(client, "alice", email="alice@example.com")
    keys = data_keys(r)
    error(await signup(client, "ALICE", email="other@example.com", status=400), "Invalid credentials")
    error(await signup(client, "other", email="ALICE@example.com", status=400), "Invalid credentials")
    assert data_keys(r) == keys
    await drain()
    r.flushdb()  # Redis lost: MongoDB still knows the names
    error(await signup(client, "alice", email="new@example.com", status=400), "Invalid credentials")


async def test_concurrent_signups_with_one_name_create_one_user(client, r):
    import asyncio

    results = await asyncio.gather(*(client.post("/api/v1/signup", json={
        "username": "alice", "password": "secret1", "email": f"a{n}@example.com",
        "avatarColor": "red", "avatarImage": PNG}) for n in range(8)))
    assert sorted(resp.status for resp in results) == [201] + [400] * 7
    assert r.zcard("users") == 1


async def test_signin_with_cookie_and_bearer(client, aiohttp_client, settings):
    await signup(client, "alice")
    await client.get("/api/v1/signout")
    response = await client.post("/api/v1/signin", json={"username": "ALICE", "password": "secret1"})
    body = await response.json()
    assert response.status == 200 and body["message"] == "User login successfully"
    cookie = response.cookies["session"]
    assert cookie["httponly"] and cookie["samesite"] == "Lax" and not cookie["secure"]
    me = await (await client.get("/api/v1/currentuser")).json()
    assert me["isUser"] is True and me["user"]["username"] == "Alice"

    from mysocial.app import create_app

    mobile = await aiohttp_client(create_app(settings))
    me = await (await mobile.get("/api/v1/currentuser", headers=bearer(body["token"]))).json()
    assert me["user"]["username"] == "Alice" and me["token"] == body["token"]


async def test_wrong_password_and_unknown_user(client):
    await signup(client, "alice")
    for payload in ({"username": "alice", "password": "wrong1"}, {"username": "nobody", "password": "secret1"}):
        response = await client.post("/api/v1/signin", json=payload)
        assert response.status == 400
        error(await response.json(), "Invalid credentials")


@pytest.mark.parametrize("payload, message", [
    ({"password": "secret1"}, '"username" is required'),
    ({"username": "", "password": "secret1"}, "Username is a required field"),
    ({"username": "alice"}, '"password" is required'),
    ({"username": "alice", "password": ""}, "Password is a required field"),
    ({"username": "al", "password": "secret1"}, "Invalid username"),
    ({"username": "alice", "password": ["x"]}, "Password must be of type string"),
])
async def test_signin_validation(client, payload, message):
    response = await client.post("/api/v1/signin", json=payload)
    assert response.status == 400
    error(await response.json(), message)


async def test_signin_reads_through_after_redis_loss(client, drain, r):
    await signup(client, "alice")
    await drain()
    r.flushdb()
    response = await client.post("/api/v1/signin", json={"username": "alice", "password": "secret1"})
    assert response.status == 200
    assert (await response.json())["user"]["username"] == "Alice"


async def test_signout_clears_session(client):
    await signup(client, "alice")
    response = await client.get("/api/v1/signout")
    assert await response.json() == {"message": "Logout successful", "user": {}, "token": ""}
    response = await client.get("/api/v1/currentuser")
    assert response.status == 401
    error(await response.json(), "Token is not available. Please login again.", 401)


async def test_missing_tampered_and_expired_tokens(client, settings):
    body = await signup(client, "alice")
    client.session.cookie_jar.clear()
    token = body["token"]
    cases = {
        None: "Token is not available. Please login again.",
        token[:-4] + ("AAAA" if not token.endswith("AAAA") else "BBBB"): "Token is invalid. Please login again.",
        jwt.encode({"userId": body["user"]["_id"], "exp": int(time.time()) - 10}, settings.jwt_secret,
                   algorithm="HS256"): "Token is invalid. Please login again.",
        jwt.encode({"userId": body["user"]["_id"], "exp": int(time.time()) + 60}, "another-secret-of-32-bytes-or-more",
                   algorithm="HS256"): "Token is invalid. Please login again.",
    }
    for bad, message in cases.items():
        response = await client.get("/api/v1/currentuser", headers=bearer(bad) if bad else {})
        assert response.status == 401
        error(await response.json(), message, 401)
    response = await client.get("/api/v1/currentuser", headers={"Cookie": "session=forged~sig"})
    assert response.status == 401


async def test_forgot_and_reset_password(client, settings, drain, db):
    await signup(client, "alice")
    response = await client.post("/api/v1/forgot-password", json={"email": "ALICE@example.com"})
    assert (await response.json()) == {"message": "Password reset email sent."}
    response = await client.post("/api/v1/forgot-password", json={"email": "nobody@example.com"})
    assert response.status == 200 and (await response.json())["message"] == "Password reset email sent."
    await drain()
    mails = read_outbox(settings.outbox_dir)
    assert [m["to"] for m in mails] == ["alice@example.com"], "mail only to real accounts"
    link = mails[0]["html"].split('href="')[1].split('"')[0]
    assert link.startswith(f"{settings.client_url}/reset-password?token=")
    token = link.split("token=")[1]

    response = await client.post(f"/api/v1/reset-password/{token}", json={"password": "newpw1", "confirmPassword": "other1"})
    error(await response.json(), "Passwords should match")
    response = await client.post(f"/api/v1/reset-password/{token}", json={"password": "newpw1", "confirmPassword": "newpw1"})
    assert (await response.json()) == {"message": "Password successfully updated."}
    response = await client.post(f"/api/v1/reset-password/{token}", json={"password": "newpw2", "confirmPassword": "newpw2"})
    assert response.status == 400
    error(await response.json(), "Reset token has expired.")

    await drain()
    mails = read_outbox(settings.outbox_dir)
    assert mails[-1]["subject"] == "Password Reset Confirmation" and "alice@example.com" in mails[-1]["html"]
    signin = await client.post("/api/v1/signin", json={"username": "alice", "password": "newpw1"})
    assert signin.status == 200
    auth = db["auth"].find_one({"username": "Alice"})
    assert bcrypt.checkpw(b"newpw1", auth["password"].encode())


async def test_reset_token_expires(client, r, settings, drain):
    await signup(client, "alice")
    await client.post("/api/v1/forgot-password", json={"email": "alice@example.com"})
    await drain()
    token = read_outbox(settings.outbox_dir)[0]["html"].split("token=")[1].split('"')[0]
    (key,) = r.keys("auth:reset:*")
    assert 3500 < r.ttl(key) <= 3600
    r.pexpireat(key, 1)  # the hour has passed: a deadline in the past expires the key now
    assert not r.exists(key)
    response = await client.post(f"/api/v1/reset-password/{token}", json={"password": "newpw1", "confirmPassword": "newpw1"})
    error(await response.json(), "Reset token has expired.")


async def test_forgot_password_bad_email(client, r):
    for payload, message in (({}, '"email" is required'), ({"email": "nope"}, "Field must be valid"),
                             ({"email": 3}, "Field must be valid"), ({"email": ""}, '"email" is not allowed to be empty')):
        response = await client.post("/api/v1/forgot-password", json=payload)
        assert response.status == 400
        error(await response.json(), message)
    assert data_keys(r) == set()
