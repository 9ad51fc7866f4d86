"""Helpers shared by the follows, blocks and notifications tests."""
from __future__ import annotations

from dataclasses import dataclass

from tests.conftest import bearer, signup

API = "/api/v1"


@dataclass
class Member:
    id: str
    username: str
    email: str
    token: str

    @property
    def headers(self) -> dict:
        return bearer(self.token)


async def join(client, *names: str) -> list[Member]:
    members = []
    for name in names:
        body = await signup(client, name)
        user = body["user"]
        members.append(Member(user["_id"], user["username"], user["email"], body["token"]))
    client.session.cookie_jar.clear()  # requests say who they are with a bearer token, or not at all
    return members


async def call(client, method: str, path: str, who: Member | None, status: int = 200, **kwargs) -> dict:
    headers = {**(who.headers if who else {}), **kwargs.pop("headers", {})}
    response = await client.request(method, API + path, headers=headers, **kwargs)
    body = await response.json()
    assert response.status == status, body
    if status >= 400:
        assert body["statusCode"] == status and body["status"] == "error" and body["message"], body
    return body


def socket_url(client) -> str:
    return f"http://127.0.0.1:{client.server.port}"


async def connect(sockets, client, *members: Member) -> list:
    return [await sockets(socket_url(client), token=m.token, user_id=m.id) for m in members]


def user_hash_counts(r, user_id: str) -> tuple[int, int]:
    followers, following = r.hmget(f"user:{user_id}", "followersCount", "followingCount")
    return int(followers), int(following)
