"""Coalesced persistence: many writes, few drain jobs, every document stored (real Redis, real RQ)."""
from __future__ import annotations

from bson import ObjectId
from pymongo.errors import ServerSelectionTimeoutError
from rq import Queue

import queues
from mysocial.core.writepath import PENDING
from tests.conftest import signup
from tests.test_faults import stored_ids, write_users
from workers import context, persist as persisting
from workers.runner import make_worker


async def test_a_thousand_writes_make_two_jobs_and_store_every_document(settings, db, r, drain):
    first = await write_users(settings, 500)
    user_queue = Queue("user", connection=r)
    assert user_queue.count == 1, "500 writes, one drain job waiting"
    assert r.scard(queues.drain_key("user")) == 500
    await drain()
    assert len(stored_ids(db, first)) == 500 and r.hlen(PENDING) == 0
    second = await write_users(settings, 500)
    assert user_queue.count == 1, "the first job had started (and ended): the next write enqueued a new one"
    await drain()
    stored = stored_ids(db, first + second)
    assert len(stored) == len(set(stored)) == 1000
    assert r.hlen(PENDING) == 0 and r.scard(queues.drain_key("user")) == 0 and user_queue.count == 0


async def test_a_drain_job_hands_what_is_left_to_the_next_one(settings, db, r, monkeypatch):
    monkeypatch.setattr(persisting, "BATCH_SIZE", 10)
    monkeypatch.setattr(persisting, "MAX_BATCHES", 2)
    ids = await write_users(settings, 45)
    user_queue = Queue("user", connection=r)
    worker = make_worker(settings, ["user"])
    worker.work(burst=True, max_jobs=1)
    assert len(stored_ids(db, ids)) == 20, "two batches of ten"
    assert user_queue.count == 1 and r.scard(queues.drain_key("user")) == 25, "and a job for the rest"
    worker.work(burst=True, max_jobs=1)
    assert len(stored_ids(db, ids)) == 40 and user_queue.count == 1
    worker.work(burst=True, max_jobs=1)
    assert len(stored_ids(db, ids)) == 45 and user_queue.count == 0 and r.hlen(PENDING) == 0


async def test_a_failed_batch_goes_back_for_the_retry(settings, db, r, monkeypatch):
    ids = await write_users(settings, 5)
    calls = []

    async def down(upserts):
        calls.append(len(upserts))
        raise ServerSelectionTimeoutError("MongoDB is down")

    monkeypatch.setattr(persisting, "upsert_all", down)
    worker = make_worker(settings, ["user"])
    worker.work(burst=True, max_jobs=1)
    assert calls == [5], "the job tried its one batch"
    assert r.scard(queues.drain_key("user")) == 5 and r.hlen(PENDING) == 5, "the batch is back in the set"
    monkeypatch.undo()
    persisting.drain("user")  # what RQ's retry runs
    assert len(stored_ids(db, ids)) == 5 and r.hlen(PENDING) == 0


async def test_one_write_of_several_kinds_signals_each_queue_once(client, r, db, drain):
    body = await signup(client, "alice")
    jobs = {name: Queue(name, connection=r).jobs for name in ("auth", "user")}
    assert [j.func_name for j in jobs["auth"]] == [queues.PERSIST_DRAIN] == [j.func_name for j in jobs["user"]]
    user_id = body["user"]["_id"]
    assert f"user:{user_id}".encode() in r.smembers(queues.drain_key("user"))
    await drain()
    assert db["users"].find_one({"_id": ObjectId(user_id)})["username"] == "Alice"
    assert r.hlen(PENDING) == 0 and context.get().redis.exists(queues.waiting_key("user")) == 0


async def test_a_document_that_cannot_be_stored_does_not_hold_up_the_others(settings, db, r, monkeypatch):
    ids = await write_users(settings, 6)
    bad = f"user:{ids[2]}"
    original = persisting.PERSISTERS["user"]
    planned = []

    def plan(db_, doc_id, doc, version):
        planned.append(doc_id)
        if doc_id == ids[2]:
            raise ValueError("a document MongoDB cannot take")
        return original.upsert(db_, doc_id, doc, version)

    monkeypatch.setitem(persisting.PERSISTERS, "user", persisting.Persister(original.state, plan, original.keys))
    counts = persisting.drain("user")
    assert ids[2] in planned and counts == {"stored": 5, "failed": 1}
    assert sorted(str(i) for i in stored_ids(db, ids)) == sorted(i for i in ids if i != ids[2])
    assert r.hexists(PENDING, bad) and not r.sismember(queues.drain_key("user"), bad), \
        "left in the ledger for the reconciler, not in the set (where it would fail every batch)"
