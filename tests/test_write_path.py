"""The write-path primitive and the persist job, against a real Redis and real RQ workers."""
from __future__ import annotations

import asyncio

from bson import ObjectId
from rq import Queue

import queues
from mysocial.core.appkeys import MONGO
from mysocial.core.mongo import upsert_one
from mysocial.core.redis import to_hash
from mysocial.core.writepath import PENDING, PENDING_SINCE, Change, commit
from mysocial.users import store as users_store
from workers import context, persist as persisting
from workers.persist import persist


def user_doc(user_id: str, **fields) -> dict:
    return {"_id": user_id, "username": "Alice", "work": "", **fields}


async def on_workers(coroutine):
    """Run a coroutine where the jobs run (the worker context's app and loop)."""
    return await asyncio.to_thread(context.run, coroutine)


async def write_user(settings, user_id: str, apply=None, **fields) -> None:
    key = f"user:{user_id}"
    apply = apply or (lambda p: p.hset(key, mapping=to_hash(user_doc(user_id, **fields))))
    await on_workers(commit(context.app(), apply, [Change("user", user_id, (key,))]))


async def test_commit_writes_cache_ledger_and_job_together(settings, r):
    uid = str(ObjectId())
    await write_user(settings, uid, work="Acme")
    assert r.hget(f"user:{uid}", "work") == b'"Acme"'
    assert r.hexists(PENDING, f"user:{uid}")
    assert r.zscore(PENDING_SINCE, f"user:{uid}") is not None
    [job] = Queue("user", connection=r).jobs
    assert job.func_name == "workers.persist.drain" and job.args == ("user",)
    assert job.retries_left == 3
    assert r.smembers(queues.drain_key("user")) == {f"user:{uid}".encode()}
    assert r.get(queues.waiting_key("user")) == job.id.encode(), "the queued job is the one waiting"


async def test_worker_persists_and_clears_ledger(settings, r, db, drain):
    uid = str(ObjectId())
    await write_user(settings, uid, work="Acme")
    await drain()
    stored = db["users"].find_one({"_id": ObjectId(uid)})
    assert stored["work"] == "Acme" and stored["_v"] > 0
    assert not r.hexists(PENDING, f"user:{uid}")
    assert r.ttl(f"user:{uid}") > 0, "a persisted entry gets the cache TTL"


async def test_versions_grow_monotonically(settings, r):
    uid = str(ObjectId())
    seen = []
    for n in range(20):
        await write_user(settings, uid, work=str(n))
        seen.append(int(r.hget(PENDING, f"user:{uid}")))
    assert seen == sorted(seen) and len(set(seen)) == 20


async def test_same_job_twice_and_stale_job_leave_newest(settings, r, db):
    uid = str(ObjectId())
    await write_user(settings, uid, work="v1")
    v1 = int(r.hget(PENDING, f"user:{uid}"))
    await write_user(settings, uid, work="v2")
    assert persist("user", uid) == "stored"
    assert persist("user", uid) == "clean", "a second run finds nothing pending"
    # An older worker that read v1 state late cannot overwrite v2:
    assert await on_workers(upsert_one(users_store.upsert(context.app()[MONGO], uid, user_doc(uid, work="v1"), v1))) is False
    assert db["users"].find_one({"_id": ObjectId(uid)})["work"] == "v2"


async def test_write_during_persist_stays_pending(settings, r, db, monkeypatch):
    """A write that lands between the worker's read and its clear keeps the entry pending."""
    uid = str(ObjectId())
    await write_user(settings, uid, work="v1")
    original = persisting.PERSISTERS["user"]
    planned = []

    def plan_then_write(db_, doc_id, doc, version):
        r.hset(PENDING, f"user:{uid}", version + 1)  # what a concurrent commit does to the ledger
        planned.append(version)
        return original.upsert(db_, doc_id, doc, version)

    monkeypatch.setitem(persisting.PERSISTERS, "user", persisting.Persister(original.state, plan_then_write,
                                                                            original.keys))
    assert persist("user", uid) == "stored"
    assert planned and r.hexists(PENDING, f"user:{uid}")


async def test_deleted_entry_becomes_tombstone_and_stale_write_refused(settings, r, db):
    uid = str(ObjectId())
    await write_user(settings, uid, work="v1")
    v1 = int(r.hget(PENDING, f"user:{uid}"))
    await on_workers(commit(context.app(), lambda p: p.delete(f"user:{uid}"), [Change("user", uid, deleted=True)]))
    assert persist("user", uid) == "stored"
    assert await on_workers(upsert_one(users_store.upsert(context.app()[MONGO], uid, user_doc(uid, work="v1"), v1))) is False
    assert db["users"].find_one({"_id": ObjectId(uid), "_deleted": {"$ne": True}}) is None


async def test_missing_cache_entry_is_never_taken_for_a_delete(settings, r, db):
    """A write marked in the ledger whose entry had been evicted (a refused in-place
    write) must not erase the stored copy."""
    uid = str(ObjectId())
    await write_user(settings, uid, work="kept")
    assert persist("user", uid) == "stored"
    r.delete(f"user:{uid}")  # evicted after it was persisted
    await on_workers(commit(context.app(), None, [Change("user", uid, (f"user:{uid}",))]))
    assert persist("user", uid) == "missing"
    assert db["users"].find_one({"_id": ObjectId(uid)})["work"] == "kept"
    assert not r.hexists(PENDING, f"user:{uid}")


async def test_concurrent_upserts_of_one_edge_leave_one_document_at_the_newest_version(settings, db):
    """The version guard of edges relies on the unique (followerId, followeeId) index of a real
    server: racing upserts of one edge leave one document (without the index, an upsert whose guard
    misses a newer document inserts a second one), and the newest version wins. (A loser of the
    insert race retries against what is there: a real MongoDB can interleave two upserts between
    their match and their insert; the wire server runs each one whole.)"""
    from datetime import datetime, timezone

    from mysocial.core.mongo import edge_id
    from mysocial.graph import store as graph_store

    async def race(a: str, b: str, versions: list[int]) -> None:
        edge = edge_id(a, b)
        docs = [{"followerId": a, "followeeId": b, "createdAt": datetime.now(timezone.utc), "v": v} for v in versions]
        await asyncio.gather(*(upsert_one(graph_store.upsert_follow(context.app()[MONGO], edge, doc, doc["v"]))
                               for doc in docs))

    for _ in range(20):
        a, b = str(ObjectId()), str(ObjectId())
        versions = list(range(100, 108))
        await on_workers(race(a, b, versions))
        [stored] = db["follows"].find({"followerId": ObjectId(a), "followeeId": ObjectId(b)})
        assert stored["_v"] == max(versions) and stored["v"] == max(versions)
