"""Follows: routes, atomic counters under concurrency, persistence, events, rebuild after a cache loss."""
from __future__ import annotations

import asyncio

from bson import ObjectId

from mysocial.core.mail import read_outbox
from mysocial.core.writepath import PENDING
from tests.conftest import redis_state, settle
from tests.social import call, connect, join, user_hash_counts


def live_follows(db, **query) -> list[dict]:
    return list(db["follows"].find({**query, "_deleted": {"$ne": True}}))


def stored_counts(db, user_id: str) -> tuple[int, int]:
    doc = db["users"].find_one({"_id": ObjectId(user_id)})
    return doc["followersCount"], doc["followingCount"]


async def test_follow_and_unfollow(client, sockets, settings, r, db, drain):
    alice, bobby, carol = await join(client, "alice", "bobby", "carol")
    a_sock, b_sock, c_sock = await connect(sockets, client, alice, bobby, carol)

    body = await call(client, "PUT", f"/user/follow/{bobby.id}", alice)
    assert body == {"message": "Following user now"}
    for sock in (a_sock, b_sock):
        event = await sock.wait_for("add follower")
        assert event["_id"] == bobby.id and event["followersCount"] == 1 and event["userProfile"]["username"] == "Bobby"
    await settle(settings, c_sock)
    assert c_sock.received("add follower") == []
    assert user_hash_counts(r, bobby.id) == (1, 0) and user_hash_counts(r, alice.id) == (0, 1)

    following = (await call(client, "GET", "/user/following", alice))["following"]
    assert [f["_id"] for f in following] == [bobby.id]
    assert set(following[0]) == {"_id", "username", "avatarColor", "postCount", "followersCount",
                                 "followingCount", "profilePicture", "uId", "userProfile"}
    assert following[0]["followersCount"] == 1 and following[0]["postCount"] == 0
    followers = (await call(client, "GET", f"/user/followers/{bobby.id}", carol))
    assert followers["message"] == "User followers"
    assert [f["_id"] for f in followers["followers"]] == [alice.id]
    assert (await call(client, "GET", "/user/all/1", bobby))["followers"] == [alice.id]

    await drain()
    [edge] = live_follows(db)
    assert (str(edge["followerId"]), str(edge["followeeId"])) == (alice.id, bobby.id) and edge["createdAt"]
    assert stored_counts(db, bobby.id) == (1, 0) and stored_counts(db, alice.id) == (0, 1)
    assert r.hlen(PENDING) == 0

    body = await call(client, "PUT", f"/user/unfollow/{bobby.id}/{alice.id}", alice)
    assert body == {"message": "Unfollowed user now"}
    for sock in (a_sock, b_sock):
        assert (await sock.wait_for("remove follower"))["_id"] == bobby.id
    assert (await call(client, "GET", "/user/following", alice))["following"] == []
    assert (await call(client, "GET", f"/user/followers/{bobby.id}", bobby))["followers"] == []
    await drain()
    assert live_follows(db) == [] and db["follows"].count_documents({"_deleted": True}) == 1
    assert stored_counts(db, bobby.id) == (0, 0) and stored_counts(db, alice.id) == (0, 0)


async def test_following_twice_counts_once(client, r, db, drain):
    alice, bobby = await join(client, "alice", "bobby")
    for _ in range(3):
        await call(client, "PUT", f"/user/follow/{bobby.id}", alice)
    assert user_hash_counts(r, bobby.id) == (1, 0)
    for _ in range(2):
        await call(client, "PUT", f"/user/unfollow/{bobby.id}/{alice.id}", alice)
    assert user_hash_counts(r, bobby.id) == (0, 0) and user_hash_counts(r, alice.id) == (0, 0)
    await drain()
    assert stored_counts(db, bobby.id) == (0, 0)


async def test_thirty_users_follow_and_unfollow_at_once(client, r, db, drain):
    [star] = await join(client, "star")
    fans = await join(client, *[f"fan{n:02d}" for n in range(30)])

    def follow(who, whom):
        return call(client, "PUT", f"/user/follow/{whom.id}", who)

    def unfollow(who, whom):
        return call(client, "PUT", f"/user/unfollow/{whom.id}/{who.id}", who)

    # every fan follows the star twice at once, while the star follows every fan
    await asyncio.gather(*[follow(f, star) for f in fans for _ in range(2)], *[follow(star, f) for f in fans])
    assert user_hash_counts(r, star.id) == (30, 30)
    assert all(user_hash_counts(r, f.id) == (1, 1) for f in fans)

    # half the fans unfollow (twice at once), the star unfollows the other half, the rest follow again
    leaving, staying = fans[:15], fans[15:]
    await asyncio.gather(*[unfollow(f, star) for f in leaving for _ in range(2)],
                         *[unfollow(star, f) for f in staying],
                         *[follow(f, star) for f in staying])
    assert user_hash_counts(r, star.id) == (15, 15)
    assert all(user_hash_counts(r, f.id) == (1, 0) for f in leaving)  # followed by the star only
    assert all(user_hash_counts(r, f.id) == (0, 1) for f in staying)  # following the star only
    followers = (await call(client, "GET", f"/user/followers/{star.id}", star))["followers"]
    assert sorted(f["_id"] for f in followers) == sorted(f.id for f in staying)

    await drain()
    assert r.hlen(PENDING) == 0
    assert stored_counts(db, star.id) == (15, 15)
    assert all(stored_counts(db, f.id) == (1, 0) for f in leaving)
    assert all(stored_counts(db, f.id) == (0, 1) for f in staying)
    assert len(live_follows(db, followeeId=ObjectId(star.id))) == 15
    assert len(live_follows(db, followerId=ObjectId(star.id))) == 15


async def test_follow_bad_input_writes_nothing(client, r, db):
    alice, bobby = await join(client, "alice", "bobby")
    await call(client, "GET", "/user/following", alice)  # loads the follow lists (a read)
    await call(client, "GET", f"/user/followers/{bobby.id}", alice)
    before = redis_state(r)
    unknown = str(ObjectId())
    assert (await call(client, "PUT", "/user/follow/nope", alice, 400))["message"] == "Invalid user id"
    assert (await call(client, "PUT", f"/user/follow/{alice.id}", alice, 400))["message"] == "You cannot follow yourself"
    await call(client, "PUT", f"/user/follow/{unknown}", alice, 404)
    await call(client, "PUT", f"/user/follow/{bobby.id}", None, 401)
    await call(client, "PUT", f"/user/unfollow/nope/{alice.id}", alice, 400)
    await call(client, "PUT", f"/user/unfollow/{bobby.id}/nope", alice, 400)
    await call(client, "PUT", f"/user/unfollow/{alice.id}/{bobby.id}", alice, 403)
    await call(client, "PUT", f"/user/unfollow/{alice.id}/{alice.id}", alice, 400)
    await call(client, "PUT", f"/user/unfollow/{unknown}/{alice.id}", alice, 404)
    await call(client, "PUT", f"/user/unfollow/{bobby.id}/{alice.id}", None, 401)
    await call(client, "GET", "/user/followers/nope", alice, 400)
    await call(client, "GET", f"/user/followers/{unknown}", alice, 404)
    await call(client, "GET", "/user/following", None, 401)
    assert redis_state(r) == before
    assert db["follows"].count_documents({}) == 0


async def test_follow_lists_rebuilt_from_mongo_after_cache_loss(client, r, db, drain):
    alice, bobby, carol = await join(client, "alice", "bobby", "carol")
    await call(client, "PUT", f"/user/follow/{bobby.id}", alice)
    await call(client, "PUT", f"/user/follow/{bobby.id}", carol)
    await drain()
    r.delete(f"following:{alice.id}", f"followers:{bobby.id}", f"following:{carol.id}", f"user:{bobby.id}",
             *[f"complete:follows:{u.id}" for u in (alice, bobby, carol)])
    followers = (await call(client, "GET", f"/user/followers/{bobby.id}", bobby))["followers"]
    assert sorted(f["_id"] for f in followers) == sorted([alice.id, carol.id])
    assert [f["_id"] for f in (await call(client, "GET", "/user/following", alice))["following"]] == [bobby.id]
    await call(client, "PUT", f"/user/follow/{bobby.id}", alice)  # already following: no double count
    assert user_hash_counts(r, bobby.id) == (2, 0)
    await call(client, "PUT", f"/user/unfollow/{bobby.id}/{carol.id}", carol)
    assert user_hash_counts(r, bobby.id) == (1, 0)
    await drain()
    assert stored_counts(db, bobby.id) == (1, 0) and len(live_follows(db)) == 1


async def test_follow_notifies_the_followee(client, sockets, settings, r, db, drain):
    alice, bobby = await join(client, "alice", "bobby")
    a_sock, b_sock = await connect(sockets, client, alice, bobby)
    await call(client, "PUT", f"/user/follow/{bobby.id}", alice)
    await drain()
    [note] = (await call(client, "GET", "/notifications", bobby))["notifications"]
    assert note["notificationType"] == "follows" and note["message"] == "Alice is now following you."
    assert note["userFrom"]["username"] == "Alice" and note["userTo"] == bobby.id and note["read"] is False
    notes, meta = await b_sock.wait_for("insert notification")
    assert [n["_id"] for n in notes] == [note["_id"]] and meta == {"userTo": bobby.id}
    await settle(settings, a_sock)
    assert a_sock.received("insert notification") == []
    [mail] = read_outbox(settings.outbox_dir)
    assert mail["to"] == bobby.email and "Alice is now following you." in mail["html"]
    assert (await call(client, "GET", "/notifications", alice))["notifications"] == []


async def test_user_hash_evicted_mid_follow_is_refilled_not_half_written(client, r, db, drain, monkeypatch):
    """If a user hash disappears just before the follow's transaction runs, the function refuses
    (no HINCRBY on a missing hash, which would leave a hash holding only a counter) and the
    write is tried again after a refill."""
    from mysocial.graph import cache as graph

    alice, bobby = await join(client, "alice", "bobby")
    await drain()  # only a persisted hash can be evicted
    original, calls = graph.follow, []

    def evict_then_follow(pipe, *args):
        calls.append(1)
        if len(calls) == 1:
            pipe.delete(f"user:{bobby.id}")  # inside the transaction, just before the follow
        original(pipe, *args)

    monkeypatch.setattr(graph, "follow", evict_then_follow)
    await call(client, "PUT", f"/user/follow/{bobby.id}", alice)
    assert len(calls) == 2, "the first attempt was refused and retried"
    assert user_hash_counts(r, bobby.id) == (1, 0) and r.hget(f"user:{bobby.id}", "username") == b'"Bobby"'
    await drain()
    assert stored_counts(db, bobby.id) == (1, 0) and len(live_follows(db)) == 1
