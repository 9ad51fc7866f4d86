"""Profiles, pages of users, suggestions, search, password change and profile settings."""
from __future__ import annotations

import asyncio

import bcrypt
import pytest
from bson import ObjectId

from mysocial.core.mail import read_outbox
from tests.conftest import bearer, signup


def error(body: dict, message: str, code: int = 400) -> None:
    assert body == {"message": message, "statusCode": code, "status": "error"}


@pytest.fixture
async def people(client):
    """alice (the client's session) and six others, signed up via the API."""
    others = []
    for name in ("bobby", "carol", "danny", "erica", "frank", "grace"):
        others.append(await signup(client, name))
    client.session.cookie_jar.clear()
    alice = await signup(client, "alice")
    return alice, others


async def test_profile_and_profile_by_id(client, people):
    alice, others = people
    body = await (await client.get("/api/v1/user/profile")).json()
    assert body["message"] == "Get user profile" and body["user"]["_id"] == alice["user"]["_id"]
    bobby_id = others[0]["user"]["_id"]
    body = await (await client.get(f"/api/v1/user/profile/{bobby_id}")).json()
    assert body["message"] == "Get user profile by id" and body["user"]["username"] == "Bobby"
    response = await client.get("/api/v1/user/profile/not-an-id")
    assert response.status == 400
    error(await response.json(), "Invalid user id")
    response = await client.get(f"/api/v1/user/profile/{ObjectId()}")
    assert response.status == 404


async def test_user_pages_exclude_me(client, people):
    alice, others = people
    body = await (await client.get("/api/v1/user/all/1")).json()
    assert body["message"] == "Get users" and body["totalUsers"] == 6 and body["followers"] == []
    names = [u["username"] for u in body["users"]]
    assert names == ["Grace", "Frank", "Erica", "Danny", "Carol", "Bobby"], "newest first, without me"
    assert (await (await client.get("/api/v1/user/all/2")).json())["users"] == []
    for bad in ("0", "abc", "-1"):
        response = await client.get(f"/api/v1/user/all/{bad}")
        assert response.status == 400
        error(await response.json(), "Invalid page")


async def test_pages_survive_redis_loss(client, people, drain, r):
    alice, _ = people
    before = await (await client.get("/api/v1/user/all/1")).json()
    await drain()
    r.flushdb()
    after = await (await client.get("/api/v1/user/all/1", headers=bearer(alice["token"]))).json()
    assert after == before


async def test_suggestions_and_search(client, people):
    alice, others = people
    body = await (await client.get("/api/v1/user/profile/user/suggestions")).json()
    assert body["message"] == "User suggestions"
    assert {u["username"] for u in body["users"]} == {"Bobby", "Carol", "Danny", "Erica", "Frank", "Grace"}
    body = await (await client.get("/api/v1/user/profile/search/ER")).json()
    assert body["message"] == "Search results"
    assert [u["username"] for u in body["search"]] == ["Erica"]
    assert set(body["search"][0]) == {"_id", "profilePicture", "username", "email", "avatarColor"}
    body = await (await client.get("/api/v1/user/profile/search/ank")).json()
    assert [u["username"] for u in body["search"]] == [], "substring matches come from MongoDB once persisted"
    response = await client.get("/api/v1/user/profile/search/" + "x" * 51)
    assert response.status == 400


async def test_search_substring_after_persist(client, people, drain):
    await drain()
    body = await (await client.get("/api/v1/user/profile/search/ank")).json()
    assert [u["username"] for u in body["search"]] == ["Frank"]


async def test_basic_info_and_social_links(client, people, drain, db):
    alice, _ = people
    response = await client.put("/api/v1/user/profile/basic-info", json={"quote": "hi", "work": "Acme"})
    assert (await response.json()) == {"message": "Updated successfully"}
    response = await client.put("/api/v1/user/profile/social-links", json={"twitter": "@alice"})
    assert (await response.json()) == {"message": "Updated successfully"}
    user = (await (await client.get("/api/v1/user/profile")).json())["user"]
    assert (user["quote"], user["work"], user["school"]) == ("hi", "Acme", "")
    assert user["social"] == {"facebook": "", "instagram": "", "twitter": "@alice", "youtube": ""}
    await drain()
    stored = db["users"].find_one({"_id": ObjectId(alice["user"]["_id"])})
    assert stored["work"] == "Acme" and stored["social"]["twitter"] == "@alice"


@pytest.mark.parametrize("path, payload, message", [
    ("basic-info", {"quote": 5}, '"quote" must be a string'),
    ("basic-info", {"work": "x" * 201}, "Work is too long"),
    ("social-links", {"youtube": ["a"]}, '"youtube" must be a string'),
    ("settings", {"comments": "yes"}, '"comments" must be a boolean'),
    ("settings", {"follows": None}, '"follows" must be a boolean'),
])
async def test_profile_updates_reject_bad_input(client, people, r, path, payload, message):
    alice, _ = people
    key = f"user:{alice['user']['_id']}"
    before = (r.hgetall(key), r.hgetall("pending"), r.llen("rq:queue:user"))
    response = await client.put(f"/api/v1/user/profile/{path}", json=payload)
    assert response.status == 400
    error(await response.json(), message)
    assert (r.hgetall(key), r.hgetall("pending"), r.llen("rq:queue:user")) == before


async def test_notification_settings(client, people, drain, db):
    alice, _ = people
    response = await client.put("/api/v1/user/profile/settings", json={"comments": False})
    body = await response.json()
    assert body == {"message": "Notification settings updated successfully",
                    "settings": {"messages": True, "reactions": True, "comments": False, "follows": True}}
    await drain()
    assert db["users"].find_one({"_id": ObjectId(alice["user"]["_id"])})["notifications"]["comments"] is False


async def test_change_password(client, people, settings, drain, db):
    alice, _ = people
    url = "/api/v1/user/profile/change-password"
    response = await client.put(url, json={"currentPassword": "wrong1", "newPassword": "newpw1", "confirmPassword": "newpw1"})
    assert response.status == 400
    error(await response.json(), "Invalid credentials")
    for body, message in (  # the original's change-password messages (src/features/user/schemes/info.ts)
            ({"currentPassword": "secret1", "newPassword": "newpw1", "confirmPassword": "newpw2"},
             "Confirm password does not match new password."),
            ({"currentPassword": "secret1", "newPassword": "n", "confirmPassword": "n"},
             "Password must have a minimum length of 4"),
            ({"currentPassword": "secret1", "newPassword": "n" * 9, "confirmPassword": "n" * 9},
             "Password should have a maximum length of 8"),
            ({"currentPassword": "", "newPassword": "newpw1", "confirmPassword": "newpw1"}, "Password is a required field"),
            ({"currentPassword": 1234, "newPassword": "newpw1", "confirmPassword": "newpw1"},
             "Password should be a type of string"),
            ({"currentPassword": "secret1", "newPassword": "newpw1"}, '"confirmPassword" is required')):
        response = await client.put(url, json=body)
        assert response.status == 400
        error(await response.json(), message)
    response = await client.put(url, json={"currentPassword": "secret1", "newPassword": "newpw1", "confirmPassword": "newpw1"})
    assert (await response.json())["message"].startswith("Password updated successfully.")
    assert (await client.post("/api/v1/signin", json={"username": "alice", "password": "secret1"})).status == 400
    assert (await client.post("/api/v1/signin", json={"username": "alice", "password": "newpw1"})).status == 200
    await drain()
    assert bcrypt.checkpw(b"newpw1", db["auth"].find_one({"username": "Alice"})["password"].encode())
    assert read_outbox(settings.outbox_dir)[-1]["to"] == "alice@example.com"


async def test_every_user_route_needs_a_token(client):
    for method, path in [("GET", "/user/all/1"), ("GET", "/user/profile"), ("GET", f"/user/profile/{ObjectId()}"),
                         ("GET", "/user/profile/user/suggestions"), ("GET", "/user/profile/search/a"),
                         ("PUT", "/user/profile/change-password"), ("PUT", "/user/profile/basic-info"),
                         ("PUT", "/user/profile/social-links"), ("PUT", "/user/profile/settings")]:
        response = await client.request(method, "/api/v1" + path, json={})
        assert response.status == 401, path
        error(await response.json(), "Token is not available. Please login again.", 401)


async def test_concurrent_profile_updates_all_land(client, people, drain, db):
    alice, _ = people
    fields = ["quote", "work", "school", "location"]
    await asyncio.gather(*(client.put("/api/v1/user/profile/basic-info", json={f: f.upper()}) for f in fields))
    await drain()
    stored = db["users"].find_one({"_id": ObjectId(alice["user"]["_id"])})
    assert [stored[f] for f in fields] == ["QUOTE", "WORK", "SCHOOL", "LOCATION"]
