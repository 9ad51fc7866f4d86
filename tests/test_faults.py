"""Nothing answered is ever lost: worker crashes, MongoDB outages, lost enqueues, Redis restarts."""
from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pymongo.errors
import redis
from bson import ObjectId
from rq import Queue
from rq.registry import FailedJobRegistry

import queues
from mysocial.app import create_app
from mysocial.core.redis import Batcher, async_client, to_hash
from mysocial.core.writepath import PENDING, Change, commit
from tests.conftest import start_redis, signup
from workers import context, maintenance, runner

ROOT = Path(__file__).resolve().parents[1]


async def write_users(settings, count: int) -> list[str]:
    """`count` documents through the write path, as fast as the API would write them."""
    client = async_client(settings.redis_url, retries=0)
    ids = [str(ObjectId()) for _ in range(count)]

    async def one(uid: str) -> None:
        key = f"user:{uid}"
        await commit(Batcher(client), lambda p: p.hset(key, mapping=to_hash({"_id": uid, "username": f"U{uid[-6:]}"})),
                     [Change("user", uid, (key,))])

    for start in range(0, count, 100):
        await asyncio.gather(*(one(uid) for uid in ids[start:start + 100]))
    await client.aclose()
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


class FailingDatabase:
    """Stands in for a MongoDB that refuses every write."""

    def __init__(self, real):
        self.real = real

    def __getitem__(self, name):
        real = self.real[name]

        class Collection:
            def __getattr__(self, method):
                if method in ("replace_one", "update_one", "insert_one", "delete_one", "bulk_write"):
                    def refuse(*args, **kwargs):
                        raise pymongo.errors.AutoReconnect("injected: MongoDB is down")
                    return refuse
                return getattr(real, method)

        return Collection()


async def test_mongodb_outage_keeps_answering_and_persists_after_recovery(client, settings, db, r, drain, monkeypatch):
    monkeypatch.setattr(queues, "RETRY_INTERVALS", [0, 0, 0])  # exhaust retries now, not in minutes
    ctx = context.get()
    monkeypatch.setattr(ctx, "db", FailingDatabase(ctx.db))
    users = [await signup(client, f"user{n}") for n in range(5)]
    for n, user in enumerate(users):
        response = await client.put("/api/v1/user/profile/basic-info", json={"work": f"job {n}"},
                                    headers={"Authorization": f"Bearer {user['token']}"})
        assert response.status == 200
    await drain()
    # every job ran 4 times (1 + 3 retries), then went to the failed registry (the dead letters)
    assert FailedJobRegistry("user", connection=r).count == 5  # the profile updates
    assert FailedJobRegistry("auth", connection=r).count == 5  # the sign-ups: one job stores auth and user
    assert db["users"].count_documents({}) == 0
    assert r.hlen(PENDING) == 10, "5 auth + 5 user documents are still pending"

    monkeypatch.setattr(ctx, "db", ctx.db.real)  # MongoDB is back
    report = maintenance.reconcile(older_than=0)
    assert report == {"pending": 10, "requeued": 10, "failed": 10}
    text = await (await client.get("/metrics")).text()
    assert 'mysocial_failed_jobs{queue="user"} 5.0' in text and "mysocial_reconciler_requeued_total 10.0" in text
    await drain()
    assert sorted(d["work"] for d in db["users"].find()) == [f"job {n}" for n in range(5)]
    assert r.hlen(PENDING) == 0


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
    maintenance.reconcile(older_than=0)  # every document now has two jobs queued
    assert Queue("user", connection=r).count == 40
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
