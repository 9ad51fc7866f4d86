"""Redis by role: the cache and ledger, the queues and Socket.IO's pub/sub on three redis-servers."""
from __future__ import annotations

import asyncio

import aiohttp
import pytest
import redis
from aiohttp.test_utils import TestServer
from bson import ObjectId

from mysocial.app import create_app
from mysocial.core.realtime import CHANNEL
from mysocial.core.writepath import PENDING
from tests.conftest import signup_at, start_redis
from workers import context, maintenance, runner


@pytest.fixture
def roles(settings, tmp_path):
    """Settings whose three Redis roles are three servers (the test's own), and a client of each."""
    procs, clients, urls = [], {}, {}
    for role in ("cache", "queue", "pubsub"):
        folder = tmp_path / role
        folder.mkdir()
        proc, port = start_redis(folder)
        procs.append(proc)
        urls[role] = f"redis://127.0.0.1:{port}/0"
        clients[role] = redis.Redis(port=port)
    s = settings.with_(redis_url=urls["cache"], queue_redis_url=urls["queue"], pubsub_redis_url=urls["pubsub"])
    context.init(s)
    yield s, clients
    context.init(settings)
    for proc in procs:
        proc.kill()
        proc.wait()


def keys(r: redis.Redis, pattern: str) -> list[bytes]:
    return sorted(r.scan_iter(pattern))


async def test_each_role_on_its_own_redis(roles, sockets, db):
    s, r = roles
    server = TestServer(create_app(s), host="127.0.0.1")
    await server.start_server()
    try:
        url = f"http://127.0.0.1:{server.port}"
        alice = await signup_at(url, "alice")
        bob = await signup_at(url, "bobby")
        bob_socket = await sockets(url, token=bob["token"], user_id=bob["user"]["_id"])

        async with aiohttp.ClientSession(headers={"Authorization": f"Bearer {alice['token']}"}) as http:
            async with http.post(f"{url}/api/v1/post", json={"post": "hello roles", "privacy": "Public"}) as response:
                assert response.status == 201
                post_id = (await response.json())["post"]["_id"]
        event = await bob_socket.wait_for("add post")
        assert event["_id"] == post_id, "the event crossed the pub/sub Redis"
        assert r["pubsub"].pubsub_numsub(CHANNEL)[0][1] == 1, "the instance's manager listens on the pub/sub Redis"
        assert r["cache"].pubsub_channels() == [b"sessions:changed"], "only session changes, with their writes"
        assert r["queue"].pubsub_channels() == []

        assert r["cache"].exists(f"post:{post_id}") and r["cache"].hexists(PENDING, f"post:{post_id}")
        assert keys(r["cache"], "rq:*") == [] and keys(r["cache"], "persist:*") == []
        assert r["queue"].llen("rq:queue:post") == 1 and r["queue"].sismember("persist:drain:post", f"post:{post_id}")
        assert keys(r["queue"], "post:*") == [] and not r["queue"].exists(PENDING)

        await asyncio.to_thread(runner.drain, s)
        assert db["posts"].find_one({"_id": ObjectId(post_id)})["post"] == "hello roles"
        assert r["cache"].hlen(PENDING) == 0 and r["queue"].llen("rq:queue:post") == 0
    finally:
        await server.close()


async def test_the_reconciler_reads_the_ledger_and_refills_the_queues(roles, db):
    s, r = roles
    server = TestServer(create_app(s), host="127.0.0.1")
    await server.start_server()
    try:
        url = f"http://127.0.0.1:{server.port}"
        r["queue"].flushall()
        r["queue"].function_flush()  # the queues' Redis replaced: no jobs, no drain sets, no library
        alice = await signup_at(url, "alice")
        assert r["queue"].llen("rq:queue:auth") == 1, "the write loaded the library there and enqueued"
        r["queue"].flushall()
        r["queue"].function_flush()
        report = maintenance.reconcile(older_than=0)
        assert report["pending"] == report["requeued"] > 0
        assert r["queue"].sismember("persist:drain:user", f"user:{alice['user']['_id']}")
        await asyncio.to_thread(runner.drain, s)
        assert db["users"].find_one({"_id": ObjectId(alice["user"]["_id"])})["username"] == "Alice"
        assert r["cache"].hlen(PENDING) == 0
    finally:
        await server.close()
