"""Nothing answered is ever lost: worker crashes, MongoDB outages, lost enqueues, Redis restarts."""
from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import redis
from bson import ObjectId
from rq import Queue
from rq.registry import FailedJobRegistry

import queues
from mysocial.app import create_app
from mysocial.core import mongo
from mysocial.core.redis import to_hash
from mysocial.core.writepath import PENDING, Change, commit
from mysocial.mongoserver import MongoServer
from tests.conftest import start_redis, signup
from workers import context, maintenance, runner

ROOT = Path(__file__).resolve().parents[1]


async def write_users(settings, count: int) -> list[str]:
    """`count` documents through the write path, as fast as the API would write them."""
    ids = [str(ObjectId()) for _ in range(count)]

    async def one(uid: str) -> None:
        key = f"user:{uid}"
        await commit(context.app(), lambda p: p.hset(key, mapping=to_hash({"_id": uid, "username": f"U{uid[-6:]}"})),
                     [Change("user", uid, (key,))])

    async def all_of_them() -> None:
        for start in range(0, count, 100):
            await asyncio.gather(*(one(uid) for uid in ids[start:start + 100]))

    await asyncio.to_thread(context.run, all_of_them())
    return ids


def stored_ids(db, ids: list[str]) -> list[ObjectId]:
    return [d["_id"] for d in db["users"].find({"_id": {"$in": [ObjectId(i) for i in ids]}, "_deleted": {"$ne": True}})]


async def test_worker_killed_mid_backlog_loses_nothing(settings, db, r, drain):
    ids = await write_users(settings, 1000)
    env = {**os.environ, "REDIS_URL": settings.redis_url, "MONGO_URL": settings.mongo_url, "MONGO_DB": settings.mongo_db,
           "PYTHONPATH": str(ROOT), "LOG_LEVEL": "WARNING"}
    worker = subprocess.Popen([sys.executable, "-m", "mysocial", "worker"], env=env, start_new_session=True,
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 120
        while len(stored_ids(db, ids)) < 200:  # let it get well into the backlog
            assert worker.poll() is None, "worker died on its own"
            assert time.monotonic() < deadline, "worker made no progress"
            time.sleep(0.01)
    finally:
        os.killpg(worker.pid, signal.SIGKILL)
        worker.wait()
    done = len(stored_ids(db, ids))
    assert 200 <= done < 1000, f"the kill must land mid-backlog, {done} stored"

    await drain()                                  # a new worker takes the rest of the queue
    maintenance.reconcile(older_than=0)            # and the reconciler what the dead one held
    await drain()
    stored = stored_ids(db, ids)
    assert len(stored) == 1000 and len(set(stored)) == 1000
    assert r.hlen(PENDING) == 0


@pytest.fixture
def own_mongo(tmp_path, settings):
    """A MongoDB wire server of this test's own, on the SQLite engine, so it can be stopped and
    started again (same port and file); clients give up on it after half a second."""
    server = MongoServer("sqlite", tmp_path / "mongo" / "db.sqlite")
    server.start()
    s = settings.with_(mongo_url=server.url, mongo_timeout_ms=500)
    context.init(s)
    yield server, s
    server.stop()
    context.init(settings)


async def test_mongodb_outage_keeps_answering_and_persists_after_recovery(aiohttp_client, own_mongo, r, monkeypatch):
    """MongoDB down: writes still answer; persist jobs fail through their retries into the failed
    registry (the dead letters), the ledger keeps them pending, and once MongoDB is back the
    reconciler gets every one stored."""
    server, s = own_mongo
    monkeypatch.setattr(queues, "RETRY_INTERVALS", [0, 0, 0])  # exhaust retries now, not in minutes
    client = await aiohttp_client(create_app(s))
    users = [await signup(client, f"user{n}") for n in range(3)]
    carol = await signup(client, "carol")
    await asyncio.to_thread(runner.drain, s)
    server.stop()
    for n, user in enumerate(users):
        response = await client.put("/api/v1/user/profile/basic-info", json={"work": f"job {n}"},
                                    headers={"Authorization": f"Bearer {user['token']}"})
        assert response.status == 200
    r.delete(f"user:{carol['user']['_id']}")  # stored, not pending: as if evicted
    response = await client.get(f"/api/v1/user/profile/{carol['user']['_id']}",
                                headers={"Authorization": f"Bearer {users[1]['token']}"})
    assert response.status == 503 and response.headers["Retry-After"] == "5"
    assert await response.json() == {"message": "Service unavailable, please try again", "statusCode": 503,
                                     "status": "error"}, "a read that needs MongoDB says so"
    await asyncio.to_thread(runner.drain, s)
    # The three writes made one drain job (coalesced persistence): it ran 1 + 3 times, then gave up.
    assert FailedJobRegistry("user", connection=r).count == 1
    assert r.hlen(PENDING) == 3

    server.start()
    report = maintenance.reconcile(older_than=0)
    assert report == {"pending": 3, "requeued": 3, "failed": 1}
    text = await (await client.get("/metrics")).text()
    assert 'mysocial_failed_jobs{queue="user"} 1.0' in text and "mysocial_reconciler_requeued_total 3.0" in text
    await asyncio.to_thread(runner.drain, s)
    db = mongo.sync_db(s)
    assert sorted(d["work"] for d in db["users"].find() if d["work"]) == [f"job {n}" for n in range(3)]
    assert r.hlen(PENDING) == 0


async def test_thirty_seconds_without_mongodb_while_writes_arrive(aiohttp_client, own_mongo, r):
    """A worker process runs throughout; the MongoDB server is down for 30 s while posts and profile
    edits keep arriving (each answered 2xx); once it is back, every one of them is stored."""
    server, s = own_mongo
    client = await aiohttp_client(create_app(s))
    alice = await signup(client, "alice")
    headers = {"Authorization": f"Bearer {alice['token']}"}
    env = {**os.environ, "REDIS_URL": s.redis_url, "MONGO_URL": s.mongo_url, "MONGO_DB": s.mongo_db,
           "MONGO_TIMEOUT_MS": "1000", "PYTHONPATH": str(ROOT), "LOG_LEVEL": "WARNING"}
    worker = subprocess.Popen([sys.executable, "-m", "mysocial", "worker"], env=env, start_new_session=True,
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    db = mongo.sync_db(s)
    try:
        # A running deployment has its indexes in Redis (the first post loads the block sets):
        # from then on a write needs nothing from MongoDB.
        assert (await client.post("/api/v1/post", json={"post": "before"}, headers=headers)).status == 201
        await until(lambda: r.hlen(PENDING) == 0, "the sign-up and the first post are stored")
        server.stop()
        texts, outage_ends = [], time.monotonic() + 30
        while time.monotonic() < outage_ends:
            texts.append(f"written while MongoDB is down #{len(texts)}")
            response = await client.post("/api/v1/post", json={"post": texts[-1]}, headers=headers)
            assert response.status == 201, await response.text()
            response = await client.put("/api/v1/user/profile/basic-info", json={"work": texts[-1]}, headers=headers)
            assert response.status == 200
            await asyncio.sleep(1)  # the pace at which writes arrive, not a wait for anything
        assert r.hlen(PENDING) > 0
        server.start()
        maintenance.reconcile(older_than=0)  # what the scheduler does every minute
        await until(lambda: r.hlen(PENDING) == 0, "every write is stored", timeout=120)
    finally:
        os.killpg(worker.pid, signal.SIGKILL)
        worker.wait()
    assert sorted(p["post"] for p in db["posts"].find()) == sorted(["before", *texts])
    [user] = db["users"].find()
    assert user["work"] == texts[-1] and user["postsCount"] == len(texts) + 1


async def test_sqlite_server_killed_and_restarted_keeps_the_data(aiohttp_client, own_mongo, r):
    server, s = own_mongo
    # The API with a deployment's kind of MONGO_TIMEOUT_MS (10 s by default), not the fixture's 500 ms:
    # the first read after the restart meets its pooled connection closed, and PyMongo's one retry
    # waits (in server selection) for its monitor to find the server again, which it checks only
    # on 500 ms ticks (MIN_HEARTBEAT_INTERVAL) -- a tie with a 500 ms selection timeout.
    client = await aiohttp_client(create_app(s.with_(mongo_timeout_ms=5000)))
    alice = await signup(client, "alice")
    await asyncio.to_thread(runner.drain, s)
    server.stop(kill=True)  # no clean shutdown
    server.start()
    r.flushall()  # the cache is gone too: the profile can come only from MongoDB, through a new connection
    response = await client.get(f"/api/v1/user/profile/{alice['user']['_id']}",
                                headers={"Authorization": f"Bearer {alice['token']}"})
    assert response.status == 200 and (await response.json())["user"]["username"] == "Alice"


async def until(condition, what: str, timeout: float = 60) -> None:
    """Poll `condition` (a state the test waits for) until it holds; fail after `timeout`."""
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, f"timed out waiting until {what}"
        await asyncio.sleep(0.05)


async def test_lost_enqueue_is_recovered_by_the_reconciler(client, settings, db, r, drain, monkeypatch):
    body = await signup(client, "alice")
    await drain()
    monkeypatch.setattr(queues, "add_persists", lambda pipe, changes: None)  # the job never reaches Redis
    response = await client.put("/api/v1/user/profile/basic-info", json={"work": "Acme"})
    assert response.status == 200
    monkeypatch.undo()
    assert Queue("user", connection=r).count == 0
    await drain()
    assert db["users"].find_one({"_id": ObjectId(body["user"]["_id"])})["work"] == ""
    assert maintenance.reconcile(older_than=60)["requeued"] == 0, "too young to be re-enqueued"
    assert maintenance.reconcile(older_than=0)["requeued"] == 1
    await drain()
    assert db["users"].find_one({"_id": ObjectId(body["user"]["_id"])})["work"] == "Acme"


async def test_reconciler_runs_once_at_a_time(settings, r):
    await write_users(settings, 3)
    lock = r.lock(maintenance.LOCK, timeout=30)
    assert lock.acquire(blocking=False)
    try:
        assert maintenance.reconcile(older_than=0) == {"skipped": True}
    finally:
        lock.release()
    assert maintenance.reconcile(older_than=0)["requeued"] == 3


async def test_duplicate_jobs_from_reconciler_and_queue_store_once(settings, db, r, drain):
    ids = await write_users(settings, 20)
    assert Queue("user", connection=r).count == 1, "one drain job for the twenty writes"
    r.delete(queues.waiting_key("user"))  # as if that job were lost: the reconciler enqueues another
    maintenance.reconcile(older_than=0)
    assert Queue("user", connection=r).count == 2
    await drain()
    assert len(stored_ids(db, ids)) == 20 and db["users"].count_documents({}) == 20


async def test_redis_restart_with_aof_keeps_cache_and_queued_jobs(aiohttp_client, settings, tmp_path, db, drain):
    proc, port = start_redis(tmp_path, "--appendonly", "yes", "--appendfsync", "always")
    s = settings.with_(redis_url=f"redis://127.0.0.1:{port}/0")
    context.init(s)
    try:
        client = await aiohttp_client(create_app(s))
        body = await signup(client, "alice")
        proc.kill()  # no clean shutdown: only the append-only file saves us
        proc.wait()
        proc, _ = start_redis(tmp_path, "--appendonly", "yes", "--appendfsync", "always", port=port)
        restarted = redis.Redis(port=port)
        assert Queue("auth", connection=restarted).count == 1, "the sign-up's persist job (auth and user)"
        me = await (await client.get("/api/v1/currentuser")).json()
        assert me["user"]["_id"] == body["user"]["_id"], "answered from the restored cache"
        assert db["users"].count_documents({}) == 0
        await asyncio.to_thread(runner.drain, s)
        assert db["users"].find_one({"_id": ObjectId(body["user"]["_id"])})["username"] == "Alice"
    finally:
        proc.terminate()
        proc.wait()
        context.init(settings)
