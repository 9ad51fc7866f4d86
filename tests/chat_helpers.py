"""Helpers shared by the chat tests."""
from __future__ import annotations

from dataclasses import dataclass


from tests import conftest
from tests.conftest import bearer, redis_state, signup

CHAT = "/api/v1/chat/message"


@dataclass
class Person:
    id: str
    username: str
    token: str

    @property
    def headers(self) -> dict:
        return bearer(self.token)


def person(body: dict) -> Person:
    return Person(body["user"]["_id"], body["user"]["username"], body["token"])


async def people(client, *names: str) -> list[Person]:
    """Sign up users; requests then authenticate by bearer token only (no session cookie)."""
    made = [person(await signup(client, name)) for name in names]
    client.session.cookie_jar.clear()
    return made


async def signup_at(url: str, username: str) -> Person:
    return person(await conftest.signup_at(url, username))


async def call(client, method: str, path: str, who: Person | None, status: int = 200, **kwargs) -> dict:
    headers = {**(who.headers if who else {}), **kwargs.pop("headers", {})}
    response = await client.request(method, path, headers=headers, **kwargs)
    body = await response.json()
    assert response.status == status, body
    if status >= 400:
        assert body["statusCode"] == status and body["status"] == "error" and body["message"]
    return body


async def send(client, sender: Person, receiver: Person, text: str = "hello", status: int = 200, **fields) -> dict:
    return await call(client, "POST", CHAT, sender, status, json={**receiver_fields(receiver), "body": text, **fields})


def receiver_fields(receiver: Person) -> dict:
    """What the web client sends of the receiver (required by the contract)."""
    return {"receiverId": receiver.id, "receiverUsername": receiver.username, "receiverAvatarColor": "#f00",
            "receiverProfilePicture": "http://localhost/media/x.png"}


async def messages(client, who: Person, other: Person, query: str = "") -> list[dict]:
    body = await call(client, "GET", f"{CHAT}/user/{other.id}{query}", who)
    assert body["message"] == "User chat messages"
    return body["messages"]


async def chat_list(client, who: Person) -> list[dict]:
    body = await call(client, "GET", f"{CHAT}/conversation-list", who)
    assert body["message"] == "User conversation list"
    return body["list"]


def state(r, db) -> tuple:
    """Everything a request could have written: every Redis key's value, and the chat collections."""
    return (
        redis_state(r),
        list(db["messages"].find().sort("_id")),
        list(db["conversations"].find().sort("_id")),
    )
