"""Helpers for the posts, reactions, comments and images tests."""
from __future__ import annotations

import asyncio
import base64
from dataclasses import dataclass

from bson import ObjectId

from tests.conftest import bearer, redis_state, signup

API = "/api/v1"
MP4 = "data:video/mp4;base64," + base64.b64encode(b"\x00\x00\x00\x18ftypmp42fake").decode()
KINDS = ("like", "love", "happy", "wow", "sad", "angry")
ERROR_KEYS = {"message", "statusCode", "status"}


@dataclass
class User:
    id: str
    name: str
    token: str
    uid: str

    @property
    def h(self) -> dict:
        return bearer(self.token)


async def users(client, *names: str) -> list[User]:
    bodies = await asyncio.gather(*(signup(client, name) for name in names))
    return [User(b["user"]["_id"], b["user"]["username"], b["token"], b["user"]["uId"]) for b in bodies]


async def call(client, method: str, path: str, user: User | None = None, status: int = 200, **kwargs) -> dict:
    headers = {**(user.h if user else {}), **kwargs.pop("headers", {})}
    response = await client.request(method, API + path, headers=headers, **kwargs)
    body = await response.json()
    assert response.status == status, (response.status, body)
    if status >= 400:
        assert set(body) == ERROR_KEYS and body["statusCode"] == status and body["status"] == "error", body
    return body


async def post(client, user: User, path: str = "/post", status: int = 201, **body) -> dict:
    return (await call(client, "POST", path, user, status, json=body)).get("post")


async def feed(client, user: User, listing: str = "all", page: int = 1) -> dict:
    return await call(client, "GET", f"/post/{listing}/{page}", user)


async def feed_ids(client, user: User, listing: str = "all", page: int = 1) -> list[str]:
    return [p["_id"] for p in (await feed(client, user, listing, page))["posts"]]


async def follow(client, follower: User, followee: User) -> None:
    """As the user would: PUT /user/follow (the edge, both counters, the notification job)."""
    await call(client, "PUT", f"/user/follow/{followee.id}", follower)


async def block(client, blocker: User, blocked: User) -> None:
    await call(client, "PUT", f"/user/block/{blocked.id}", blocker)


def mongo_state(db) -> dict:
    return {name: sorted(map(str, db[name].find())) for name in ("posts", "reactions", "comments", "images", "users")}


async def refused_unchanged(client, r, db, drain, user: User, method: str, path: str, body: dict | None, status: int,
                            message: str, names: dict[str, str]) -> None:
    """A hostile request (`{name}`s in the path and body filled from `names`, and `{unknown}`, an
    id nothing has): answered `status` with `message`, and nothing written to Redis or MongoDB."""
    names = {**names, "unknown": str(ObjectId())}
    fill = lambda v: v.format(**names) if isinstance(v, str) else v
    await drain()
    before, mongo_before = redis_state(r), mongo_state(db)
    answer = await call(client, method, fill(path), user, status,
                        json={k: fill(v) for k, v in body.items()} if body is not None else None)
    assert answer["message"] == message
    assert redis_state(r) == before
    await drain()
    assert mongo_state(db) == mongo_before
