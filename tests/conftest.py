"""Shared fixtures: a real redis-server and a MongoDB server per test session, per-test settings,
apps, workers.

MongoDB is the wire server (mysocial.mongoserver, memory engine) started here, unless MONGO_URL
names a real one; either way every test has a database of its own, reached through PyMongo over TCP.
"""
from __future__ import annotations

import asyncio
import base64
import os
import shutil
import subprocess
import time
import uuid

import aiohttp
import pytest
import redis

from mysocial.app import create_app
from mysocial.config import Settings
from mysocial.core import mongo
from mysocial.dev import free_port
from mysocial.mongoserver import MongoServer
from workers import context, runner

PNG = "data:image/png;base64," + base64.b64encode(b"\x89PNG\r\n\x1a\nfake").decode()


def start_redis(tmp_dir, *extra: str, port: int | None = None) -> tuple[subprocess.Popen, int]:
    binary = shutil.which("redis-server")
    if not binary:
        pytest.fail("redis-server is not installed (.ci/run installs it)")
    port = port or free_port()
    proc = subprocess.Popen(
        [binary, "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
         "--dir", str(tmp_dir), *extra],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )
    client = redis.Redis(port=port)
    deadline = time.monotonic() + 10
    while True:
        try:
            client.ping()
            return proc, port
        except redis.ConnectionError:
            if time.monotonic() > deadline:
                proc.kill()
                pytest.fail("redis-server did not start")
            time.sleep(0.02)


@pytest.fixture(scope="session")
def redis_port(tmp_path_factory):
    proc, port = start_redis(tmp_path_factory.mktemp("redis"))
    yield port
    proc.terminate()
    proc.wait(10)


@pytest.fixture(scope="session")
def mongo_url():
    if os.environ.get("MONGO_URL"):
        yield os.environ["MONGO_URL"]
        return
    with MongoServer("memory") as server:
        yield server.url


@pytest.fixture
def settings(redis_port, mongo_url, tmp_path) -> Settings:
    redis.Redis(port=redis_port).flushall()
    s = Settings(
        env="test",
        port=0,
        redis_url=f"redis://127.0.0.1:{redis_port}/0",
        mongo_url=mongo_url,
        mongo_db=f"t_{uuid.uuid4().hex[:12]}",
        jwt_secret="test-secret-" + uuid.uuid4().hex,
        cookie_keys=("cookie-key-" + uuid.uuid4().hex,),
        client_url="http://localhost:3000",
        api_url="http://localhost",
        media_dir=str(tmp_path / "media"),
        outbox_dir=str(tmp_path / "outbox"),
        instance="test",
        bcrypt_rounds=4,
        rate_limit=100_000,
        auth_rate_limit=100_000,
        socket_rate_limit=100_000,
        report_rate_limit=100_000,
    )
    context.init(s)
    yield s
    mongo.sync_db(s).client.drop_database(s.mongo_db)


@pytest.fixture
def db(settings):
    return mongo.sync_db(settings)


@pytest.fixture
def r(settings) -> redis.Redis:
    return redis.Redis.from_url(settings.redis_url)


@pytest.fixture
async def client(aiohttp_client, settings):
    return await aiohttp_client(create_app(settings))


@pytest.fixture
def drain(settings):
    """Run a real RQ worker (in a thread) until every queue is empty."""

    async def run() -> None:
        await asyncio.to_thread(runner.drain, settings)

    return run


async def signup(client, username: str = "alice", password: str = "secret1", email: str | None = None,
                 status: int = 201) -> dict:
    response = await client.post("/api/v1/signup", json={
        "username": username, "password": password, "email": email or f"{username}@example.com",
        "avatarColor": "#f00", "avatarImage": PNG,
    })
    body = await response.json()
    assert response.status == status, body
    return body


def bearer(token: str) -> dict:
    return {"Authorization": f"Bearer {token}"}


class Instance:
    """One API instance on a real port."""

    def __init__(self, server, settings: Settings):
        self.server = server
        self.settings = settings

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.port}"


@pytest.fixture
async def instances(settings):
    """Start API instances that share one Redis (call with how many you need)."""
    from aiohttp.test_utils import TestServer

    started = []

    async def start(count: int = 1) -> list[Instance]:
        for n in range(count):
            server = TestServer(create_app(settings.with_(instance=f"api-{len(started)}")), host="127.0.0.1")
            await server.start_server()
            started.append(Instance(server, settings))
        return started[-count:]

    yield start
    for instance in started:
        await instance.server.close()


class SocketUser:
    """A real Socket.IO client that records every event it receives."""

    def __init__(self, user_id: str | None = None):
        import socketio

        self.user_id = user_id
        self.sio = socketio.AsyncClient(reconnection=False)
        self.events: list[tuple[str, object]] = []
        self._arrived = asyncio.Event()

        @self.sio.on("*")
        async def any_event(event, *args):
            # one argument is recorded as is; several (e.g. `insert notification`) as a tuple
            self.events.append((event, args[0] if len(args) == 1 else (args or None)))
            self._arrived.set()

    async def connect(self, url: str, token: str | None = None, cookie: str | None = None) -> None:
        headers = {"Cookie": cookie} if cookie else {}
        await self.sio.connect(url, transports=["websocket"], auth={"token": token} if token else None,
                               headers=headers, wait_timeout=5)

    def received(self, event: str) -> list:
        return [data for name, data in self.events if name == event]

    async def wait_for(self, event: str, predicate=lambda data: True, timeout: float = 5) -> object:
        """Wait until `event` arrives (matching `predicate`); fail after `timeout` seconds."""
        deadline = asyncio.get_running_loop().time() + timeout
        while True:
            for data in self.received(event):
                if predicate(data):
                    return data
            remaining = deadline - asyncio.get_running_loop().time()
            if remaining <= 0:
                raise AssertionError(f"no {event!r} event within {timeout}s; got {[e for e, _ in self.events]}")
            self._arrived.clear()
            try:
                await asyncio.wait_for(self._arrived.wait(), remaining)
            except asyncio.TimeoutError:
                pass

    async def close(self) -> None:
        await self.sio.disconnect()


@pytest.fixture
async def sockets():
    """Make connected Socket.IO clients; all are closed after the test."""
    made: list[SocketUser] = []

    async def connect(url: str, token: str | None = None, cookie: str | None = None,
                      user_id: str | None = None) -> SocketUser:
        user = SocketUser(user_id)
        await user.connect(url, token=token, cookie=cookie)
        made.append(user)
        return user

    yield connect
    for user in made:
        await user.close()



async def until(condition, what: str, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, f"timed out waiting until {what}"
        await asyncio.sleep(0.02)


async def until_disconnected(sock: SocketUser, timeout: float = 5) -> None:
    deadline = asyncio.get_running_loop().time() + timeout
    while sock.sio.connected:
        assert asyncio.get_running_loop().time() < deadline, "the socket was not disconnected"
        await asyncio.sleep(0.02)


async def settle(settings: Settings, *users: SocketUser) -> None:
    """Wait until every event emitted so far to these users has arrived.

    Emits a marker to each user's room through Redis, after whatever the test
    did, and waits for it: events to one socket arrive in order, so a test can
    then assert that some event did *not* arrive.
    """
    import socketio

    from mysocial.core.realtime import CHANNEL, room

    token = uuid.uuid4().hex
    manager = socketio.AsyncRedisManager(settings.redis_url, channel=CHANNEL, write_only=True)
    for user in users:
        await manager.emit("test marker", token, room=room(user.user_id), namespace="/")
    for user in users:
        await user.wait_for("test marker", lambda data: data == token)


def data_keys(r: redis.Redis) -> set[bytes]:
    """Every Redis key a write could leave: rate-limit counters, presence (heartbeats) and what
    the read path leaves behind (index markers, rebuild statistics) are left out."""
    return {k for k in r.keys("*") if not k.startswith((b"ratelimit:", b"presence:", b"complete:", b"stats:"))}


def value_of(r: redis.Redis, key: bytes):
    """A key's value by type. Not DUMP: a read can move a big hash's incremental rehash on,
    which reorders its serialized form without changing it."""
    kind = r.type(key)
    if kind == b"hash":
        return r.hgetall(key)
    if kind == b"set":
        return sorted(r.smembers(key))
    if kind == b"zset":
        return r.zrange(key, 0, -1, withscores=True)
    if kind == b"list":
        return r.lrange(key, 0, -1)
    return r.dump(key)


def redis_state(r: redis.Redis) -> dict:
    """Every key a write could leave, with its value: equal states mean nothing was written."""
    return {key: value_of(r, key) for key in sorted(data_keys(r))}


async def signup_at(url: str, username: str) -> dict:
    """Sign up on one API instance by URL (the body of the answer)."""
    async with aiohttp.ClientSession() as http:
        async with http.post(f"{url}/api/v1/signup", json={
            "username": username, "password": "secret1", "email": f"{username}@example.com",
            "avatarColor": "red", "avatarImage": PNG,
        }) as response:
            assert response.status == 201
            return await response.json()
