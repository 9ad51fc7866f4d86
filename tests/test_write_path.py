"""The write-path primitive and the persist job, against a real Redis and real RQ workers."""
from __future__ import annotations

from bson import ObjectId
from rq import Queue

from mysocial.core.redis import Batcher, async_client, to_hash
from mysocial.core.writepath import PENDING, PENDING_SINCE, Change, commit
from mysocial.users import store as users_store
from workers.users import persist_user


def user_doc(user_id: str, **fields) -> dict:
    return {"_id": user_id, "username": "Alice", "work": "", **fields}


async def write_user(settings, user_id: str, **fields) -> None:
    client = async_client(settings.redis_url, retries=0)
    key = f"user:{user_id}"
    await commit(Batcher(client), lambda p: p.hset(key, mapping=to_hash(user_doc(user_id, **fields))),
                 [Change("user", user_id, (key,))])
    await client.aclose()


async def test_commit_writes_cache_ledger_and_job_together(settings, r):
    uid = str(ObjectId())
    await write_user(settings, uid, work="Acme")
    assert r.hget(f"user:{uid}", "work") == b'"Acme"'
    assert r.hexists(PENDING, f"user:{uid}")
    assert r.zscore(PENDING_SINCE, f"user:{uid}") is not None
    job = Queue("user", connection=r).jobs[0]
    assert job.func_name == "workers.users.persist_user" and job.args == (uid,)
    assert job.retries_left == 3


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
    assert persist_user(uid) == "stored"
    assert persist_user(uid) == "clean", "a second run finds nothing pending"
    # An older worker that read v1 state late cannot overwrite v2:
    assert users_store.save(db, uid, user_doc(uid, work="v1"), v1) is False
    assert db["users"].find_one({"_id": ObjectId(uid)})["work"] == "v2"


async def test_write_during_persist_stays_pending(settings, r, db, monkeypatch):
    """A write that lands between the worker's read and its clear keeps the entry pending."""
    uid = str(ObjectId())
    await write_user(settings, uid, work="v1")
    import workers.users as wu

    original = wu.store.save
    client_writes = []

    def save_then_write(db_, doc_id, doc, version):
        result = original(db_, doc_id, doc, version)
        r.hset(PENDING, f"user:{uid}", version + 1)  # what a concurrent commit does to the ledger
        client_writes.append(version)
        return result

    monkeypatch.setattr(wu.store, "save", save_then_write)
    persist_user(uid)
    assert client_writes and r.hexists(PENDING, f"user:{uid}")


async def test_deleted_entry_becomes_tombstone_and_stale_write_refused(settings, r, db):
    uid = str(ObjectId())
    await write_user(settings, uid, work="v1")
    v1 = int(r.hget(PENDING, f"user:{uid}"))
    client = async_client(settings.redis_url, retries=0)
    await commit(Batcher(client), lambda p: p.delete(f"user:{uid}"), [Change("user", uid, deleted=True)])
    await client.aclose()
    assert persist_user(uid) == "stored"
    assert users_store.save(db, uid, user_doc(uid, work="v1"), v1) is False
    assert db["users"].find_one({"_id": ObjectId(uid), "_deleted": {"$ne": True}}) is None


async def test_missing_cache_entry_is_never_taken_for_a_delete(settings, r, db):
    """A write marked in the ledger whose entry had been evicted (a refused in-place
    write) must not erase the stored copy."""
    uid = str(ObjectId())
    await write_user(settings, uid, work="kept")
    assert persist_user(uid) == "stored"
    r.delete(f"user:{uid}")  # evicted after it was persisted
    client = async_client(settings.redis_url, retries=0)
    await commit(Batcher(client), None, [Change("user", uid, (f"user:{uid}",))])
    await client.aclose()
    assert persist_user(uid) == "missing"
    assert db["users"].find_one({"_id": ObjectId(uid)})["work"] == "kept"
    assert not r.hexists(PENDING, f"user:{uid}")


def test_concurrent_upserts_of_one_edge_leave_one_document_at_the_newest_version(settings, db):
    """The version guard of edges relies on the unique (followerId, followeeId) index of a real
    server: racing upserts of one edge leave one document (without the index, an upsert whose guard
    misses a newer document inserts a second one), and the newest version wins. (A loser of the
    insert race retries against what is there: a real MongoDB can interleave two upserts between
    their match and their insert; the wire server runs each one whole.)"""
    import threading
    from datetime import datetime, timezone

    from mysocial.core.mongo import edge_id
    from mysocial.followers import store as follows_store

    for _ in range(20):
        a, b = str(ObjectId()), str(ObjectId())
        edge = edge_id(a, b)
        versions = list(range(100, 108))
        start = threading.Barrier(len(versions))

        def save(version: int) -> None:
            start.wait()
            doc = {"followerId": a, "followeeId": b, "createdAt": datetime.now(timezone.utc), "v": version}
            follows_store.save(db, edge, doc, version)

        threads = [threading.Thread(target=save, args=(v,)) for v in versions]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        [stored] = db["follows"].find({"followerId": ObjectId(a), "followeeId": ObjectId(b)})
        assert stored["_v"] == max(versions) and stored["v"] == max(versions)
