"""Instances' copies of sessions (mysocial.sessions.local) and rate-limit leases
(mysocial.core.ratelimit): fewer round trips, the same answers."""
from __future__ import annotations

import asyncio
import time

import jwt
import pytest

from mysocial.core import ratelimit
from mysocial.sessions import local
from mysocial.sessions.local import LOCAL
from tests.conftest import create_app, until
from tests.social import Member, call, join


def copies(client) -> local.Copies:
    return client.server.app[LOCAL]


def session_of(who: Member) -> str:
    return jwt.decode(who.token, options={"verify_signature": False})["sid"]


async def in_one_window(run) -> list:
    """`run()`'s result, from within one rate-limit window (run again if it straddled two)."""
    while True:
        window = int(time.time() // ratelimit.WINDOW)
        result = await run()
        if int(time.time() // ratelimit.WINDOW) == window:
            return result


async def two_instances(aiohttp_client, settings) -> tuple:
    first = await aiohttp_client(create_app(settings.with_(instance="api-0")))
    second = await aiohttp_client(create_app(settings.with_(instance="api-1")))
    await until(lambda: copies(first).on and copies(second).on, "both instances follow session changes", 10)
    return first, second


async def test_a_session_ended_on_one_instance_is_refused_on_the_other(aiohttp_client, settings):
    first, second = await two_instances(aiohttp_client, settings)
    (alice,) = await join(first, "alice")
    sid = session_of(alice)
    await call(second, "GET", "/currentuser", alice)
    assert copies(second).get(sid) is not None, "the second instance keeps a copy of the session"
    await call(second, "GET", "/currentuser", alice)

    before = copies(second).dropped
    await call(first, "GET", "/signout", alice)
    await call(first, "GET", "/currentuser", alice, 401)  # at once where it ended
    await until(lambda: copies(second).dropped > before, "the change reaches the other instance", 5)
    assert copies(second).get(sid) is None
    await call(second, "GET", "/currentuser", alice, 401)


async def test_signing_out_everywhere_else_reaches_every_instance(aiohttp_client, settings):
    first, second = await two_instances(aiohttp_client, settings)
    (alice,) = await join(first, "alice")
    other = await call(first, "POST", "/signin", None, json={"username": "alice", "password": "secret1"})
    phone = Member(alice.id, alice.username, alice.email, other["token"])
    first.session.cookie_jar.clear()
    await call(second, "GET", "/currentuser", phone)
    assert copies(second).get(session_of(phone)) is not None

    before = copies(second).dropped
    await call(first, "DELETE", "/sessions", alice)  # every session but this one
    await until(lambda: copies(second).dropped > before, "the change arrives", 5)
    assert copies(second).get(session_of(phone)) is None
    await call(second, "GET", "/currentuser", phone, 401)
    await call(second, "GET", "/currentuser", alice)


async def test_copies_start_empty_after_the_subscription_was_lost(aiohttp_client, settings, r):
    first, _ = await two_instances(aiohttp_client, settings)
    (alice,) = await join(first, "alice")
    sid = session_of(alice)
    await call(first, "GET", "/currentuser", alice)
    assert copies(first).get(sid) is not None
    before, lost = copies(first).subscriptions, copies(first).losses

    ours = [c for c in r.client_list() if c["name"] == local.CLIENT_NAME]
    assert len(ours) == 2, "each instance has one subscription connection"
    for connection in ours:
        r.client_kill_filter(_id=connection["id"])
    await until(lambda: copies(first).subscriptions > before, "the instance subscribes again", 10)
    assert copies(first).losses == lost + 1, "the loss was noticed (copies were off), not reconnected over"
    assert copies(first).get(sid) is None, "what may have been missed meanwhile is not served"
    await call(first, "GET", "/currentuser", alice)
    assert copies(first).get(sid) is not None


def test_a_copy_read_while_its_session_changed_is_not_kept(monkeypatch):
    kept = local.Copies()
    kept.subscribed()
    ticket = kept.reading("s1")
    kept.drop("s1")  # the change message arrived while the read was on its way
    kept.store("s1", ticket, {"_id": "s1"})
    assert kept.get("s1") is None

    ticket = kept.reading("s1")
    kept.off()
    kept.store("s1", ticket, {"_id": "s1"})
    assert kept.get("s1") is None, "nothing is kept while the subscription is down"

    kept.subscribed()
    kept.store("s1", kept.reading("s1"), None)
    assert kept.get("s1") is None, "an ended session is never kept"
    kept.store("s1", kept.reading("s1"), {"_id": "s1"})
    assert kept.get("s1") == {"_id": "s1"}
    first, second = kept.reading("s2"), kept.reading("s2")
    kept.store("s2", first, {"_id": "s2"})
    kept.store("s2", second, {"_id": "s2"})
    assert kept.get("s2") == {"_id": "s2"}, "of reads under way together, the first back is kept"
    monkeypatch.setattr(local, "MAX_AGE", -1.0)
    assert kept.get("s1") is None, "a copy older than MAX_AGE is read again"


@pytest.mark.parametrize("limit", [64, 100])
async def test_leases_never_grant_more_than_the_limit_across_instances(aiohttp_client, settings, limit):
    first = await aiohttp_client(create_app(settings.with_(instance="api-0", rate_limit=limit)))
    second = await aiohttp_client(create_app(settings.with_(instance="api-1", rate_limit=limit)))
    names = iter(f"user{n}" for n in range(10))

    async def run() -> list[int]:
        (who,) = await join(first, next(names))
        statuses = []
        for n in range(limit + 20):  # alternately: each instance spends what its leases hold
            response = await (first, second)[n % 2].get("/api/v1/currentuser", headers=who.headers)
            statuses.append(response.status)
            if response.status == 429:
                body = await response.json()
                assert body["message"] == ratelimit.MESSAGE and int(response.headers["Retry-After"]) >= 1
        return statuses

    statuses = await in_one_window(run)
    assert limit // ratelimit.SLICES > 1, "the general bucket is leased"
    assert statuses.count(200) == limit and statuses.count(429) == 20
    assert statuses[-4:] == [429] * 4


async def test_one_instance_grants_exactly_the_limit(aiohttp_client, settings, r):
    client = await aiohttp_client(create_app(settings.with_(rate_limit=64)))
    names = iter(f"user{n}" for n in range(10))

    async def run() -> tuple[Member, list[int]]:
        (who,) = await join(client, next(names))
        return who, [(await client.get("/api/v1/currentuser", headers=who.headers)).status for _ in range(70)]

    who, statuses = await in_one_window(run)
    assert statuses == [200] * 64 + [429] * 6
    (counter,) = r.keys(f"ratelimit:api:user:{who.id}:*")
    assert int(r.get(counter)) > 64 and r.ttl(counter) > 0, "the shared counter holds the reservations"


async def test_a_burst_reserves_what_it_spends(aiohttp_client, settings, r):
    client = await aiohttp_client(create_app(settings.with_(rate_limit=3200)))
    names = iter(f"user{n}" for n in range(10))

    async def run() -> tuple[Member, list[int]]:
        (who,) = await join(client, next(names))
        responses = await asyncio.gather(*(client.get("/api/v1/currentuser", headers=who.headers)
                                           for _ in range(300)))
        return who, [response.status for response in responses]

    who, statuses = await in_one_window(run)
    assert statuses == [200] * 300, "300 concurrent requests are far within a limit of 3,200"
    (counter,) = r.keys(f"ratelimit:api:user:{who.id}:*")
    assert int(r.get(counter)) <= 3200 // ratelimit.SLICES + 300, "one slice reserved, the rest counted one by one"


def test_a_reservation_that_never_answered_is_given_up(monkeypatch):
    leases = ratelimit.Leases()
    limit = ratelimit.limit("api", "user:x", 3200, leased=True)
    assert leases.reserve(limit) == 100
    assert leases.reserve(limit) == 1, "while a slice is on its way, requests are counted one by one"
    monkeypatch.setattr(ratelimit, "RESERVING", 0.0)
    assert leases.reserve(limit) == 100, "a reservation whose answer never came is not waited on"
    assert leases.add(limit, 100, 200), "the counter holds both slices: this one is granted whole"
    assert [leases.take(limit) for _ in range(100)] == [True] * 99 + [False]
