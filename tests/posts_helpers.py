"""Helpers for the posts, reactions, comments and images tests."""
from __future__ import annotations

import asyncio
import base64
import time
from dataclasses import dataclass

from mysocial.blocks import cache as blocks
from mysocial.core.redis import async_client
from mysocial.followers import cache as follows
from tests.conftest import bearer, signup

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


async def _pipe(settings, apply) -> None:
    client = async_client(settings.redis_url)
    async with client.pipeline(transaction=True) as pipe:
        apply(pipe)
        await pipe.execute()
    await client.aclose()


async def follow(settings, follower: User, followee: User) -> None:
    await _pipe(settings, lambda pipe: follows.follow(pipe, follower.id, followee.id, time.time() * 1000))


async def block(settings, blocker: User, blocked: User) -> None:
    await _pipe(settings, lambda pipe: blocks.block(pipe, blocker.id, blocked.id))


def mongo_state(db) -> dict:
    return {name: sorted(map(str, db[name].find())) for name in ("posts", "reactions", "comments", "images", "users")}
