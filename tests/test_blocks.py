"""Blocks: hidden profiles, refused follows, ended follows, events to the two users only, persistence."""
from __future__ import annotations

import asyncio

from bson import ObjectId

from mysocial.core.writepath import PENDING
from tests.conftest import redis_state, settle
from tests.social import call, connect, join, user_hash_counts


def stored_user(db, user_id: str) -> dict:
    return db["users"].find_one({"_id": ObjectId(user_id)})


def live_blocks(db) -> list[tuple[str, str]]:
    return [(str(d["blockerId"]), str(d["blockedId"])) for d in db["blocks"].find({"_deleted": {"$ne": True}})]


async def test_block_hides_profiles_refuses_follows_and_ends_them(client, sockets, settings, r, db, drain):
    alice, bobby, carol = await join(client, "alice", "bobby", "carol")
    await call(client, "PUT", f"/user/follow/{bobby.id}", alice)
    await call(client, "PUT", f"/user/follow/{alice.id}", bobby)
    await call(client, "PUT", f"/user/follow/{bobby.id}", carol)
    a_sock, b_sock, c_sock = await connect(sockets, client, alice, bobby, carol)

    assert await call(client, "PUT", f"/user/block/{bobby.id}", alice) == {"message": "User blocked"}
    for sock in (a_sock, b_sock):
        assert await sock.wait_for("blocked user id") == {"blockedUser": bobby.id, "blockedBy": alice.id}
        assert {e["_id"] for e in sock.received("remove follower")} <= {alice.id, bobby.id}
    await settle(settings, a_sock, b_sock, c_sock)
    assert c_sock.received("blocked user id") == [] and c_sock.received("remove follower") == []
    assert len(a_sock.received("remove follower")) == 2, "both follows ended"

    # the follows both ways ended, with their counters; carol's follow of bobby stands
    assert user_hash_counts(r, alice.id) == (0, 0) and user_hash_counts(r, bobby.id) == (1, 0)
    assert (await call(client, "GET", "/user/following", alice))["following"] == []
    assert [f["_id"] for f in (await call(client, "GET", f"/user/followers/{bobby.id}", carol))["followers"]] == [carol.id]

    # neither sees the other, nor can follow the other
    for me, other in ((alice, bobby), (bobby, alice)):
        await call(client, "GET", f"/user/profile/{other.id}", me, 404)
        await call(client, "GET", f"/user/followers/{other.id}", me, 404)
        assert (await call(client, "PUT", f"/user/follow/{other.id}", me, 403))["message"] == "You cannot follow this user"
        listed = [u["_id"] for u in (await call(client, "GET", "/user/all/1", me))["users"]]
        assert other.id not in listed and carol.id in listed
        found = [u["_id"] for u in (await call(client, "GET", f"/user/profile/search/{other.username[:3]}", me))["search"]]
        assert found == []
        suggested = [u["_id"] for u in (await call(client, "GET", "/user/profile/user/suggestions", me))["users"]]
        assert other.id not in suggested
    assert (await call(client, "GET", f"/user/profile/{bobby.id}", carol))["user"]["_id"] == bobby.id

    me_a = (await call(client, "GET", "/user/profile", alice))["user"]
    me_b = (await call(client, "GET", "/user/profile", bobby))["user"]
    assert me_a["blocked"] == [bobby.id] and me_a["blockedBy"] == []
    assert me_b["blockedBy"] == [alice.id] and me_b["blocked"] == []

    await drain()
    assert r.hlen(PENDING) == 0
    assert live_blocks(db) == [(alice.id, bobby.id)]
    a, b = stored_user(db, alice.id), stored_user(db, bobby.id)
    assert a["blocked"] == [bobby.id] and b["blockedBy"] == [alice.id]
    assert (a["followersCount"], a["followingCount"], b["followersCount"], b["followingCount"]) == (0, 0, 1, 0)
    live = [(str(d["followerId"]), str(d["followeeId"])) for d in db["follows"].find({"_deleted": {"$ne": True}})]
    assert live == [(carol.id, bobby.id)]


async def test_unblock(client, sockets, settings, r, db, drain):
    alice, bobby, carol = await join(client, "alice", "bobby", "carol")
    await call(client, "PUT", f"/user/block/{bobby.id}", alice)
    await drain()
    a_sock, b_sock, c_sock = await connect(sockets, client, alice, bobby, carol)

    assert await call(client, "PUT", f"/user/unblock/{bobby.id}", alice) == {"message": "User unblocked"}
    for sock in (a_sock, b_sock):
        assert await sock.wait_for("unblocked user id") == {"blockedUser": bobby.id, "blockedBy": alice.id}
    await settle(settings, c_sock)
    assert c_sock.received("unblocked user id") == []

    assert (await call(client, "GET", f"/user/profile/{alice.id}", bobby))["user"]["_id"] == alice.id
    await call(client, "PUT", f"/user/follow/{alice.id}", bobby)
    assert user_hash_counts(r, alice.id) == (1, 0)
    await drain()
    assert live_blocks(db) == [] and db["blocks"].count_documents({"_deleted": True}) == 1
    assert stored_user(db, alice.id)["blocked"] == [] and stored_user(db, bobby.id)["blockedBy"] == []


async def test_blocking_twice_changes_nothing_more(client, r, drain, db):
    alice, bobby = await join(client, "alice", "bobby")
    await asyncio.gather(*[call(client, "PUT", f"/user/block/{bobby.id}", alice) for _ in range(5)])
    profile = (await call(client, "GET", "/user/profile", alice))["user"]
    assert profile["blocked"] == [bobby.id]
    await asyncio.gather(*[call(client, "PUT", f"/user/unblock/{bobby.id}", alice) for _ in range(5)])
    assert (await call(client, "GET", "/user/profile", alice))["user"]["blocked"] == []
    await drain()
    assert live_blocks(db) == []


async def test_block_racing_follows_leaves_no_follow(client, r, db, drain):
    """A block and many follow attempts at once: whatever the order, no follow survives the block."""
    alice, bobby = await join(client, "alice", "bobby")
    requests = [client.put(f"/api/v1/user/follow/{alice.id}", headers=bobby.headers) for _ in range(10)]
    requests.insert(5, client.put(f"/api/v1/user/block/{bobby.id}", headers=alice.headers))
    statuses = [resp.status for resp in await asyncio.gather(*requests)]
    assert set(statuses) <= {200, 403}
    assert user_hash_counts(r, alice.id) == (0, 0) and user_hash_counts(r, bobby.id) == (0, 0)
    assert (await call(client, "GET", "/user/following", bobby))["following"] == []
    await drain()
    assert db["follows"].count_documents({"_deleted": {"$ne": True}}) == 0
    assert stored_user(db, alice.id)["followersCount"] == 0


async def test_block_bad_input_writes_nothing(client, r, db):
    alice, bobby = await join(client, "alice", "bobby")
    await call(client, "GET", f"/user/profile/{bobby.id}", alice)  # loads the block sets (a read)
    before = redis_state(r)
    unknown = str(ObjectId())
    for route in ("block", "unblock"):
        assert (await call(client, "PUT", f"/user/{route}/nope", alice, 400))["message"] == "Invalid user id"
        assert (await call(client, "PUT", f"/user/{route}/{alice.id}", alice, 400))["message"] == "You cannot block yourself"
        await call(client, "PUT", f"/user/{route}/{unknown}", alice, 404)
        await call(client, "PUT", f"/user/{route}/{bobby.id}", None, 401)
    assert redis_state(r) == before
    assert db["blocks"].count_documents({}) == 0


async def test_blocks_survive_a_cache_loss(client, r, drain):
    alice, bobby = await join(client, "alice", "bobby")
    await call(client, "PUT", f"/user/block/{bobby.id}", alice)
    await drain()
    r.delete(f"blocked:{alice.id}", f"blockedby:{bobby.id}", "complete:blocks")
    await call(client, "GET", f"/user/profile/{alice.id}", bobby, 404)
    await call(client, "PUT", f"/user/follow/{alice.id}", bobby, 403)
