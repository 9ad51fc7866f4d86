"""Reactions: one per user per post, atomic per-kind counts, notifications, MongoDB after drain."""
from __future__ import annotations

import asyncio
from collections import Counter

import pytest
from bson import ObjectId
from rq import Queue

from mysocial.reactions import cache as reactions_cache
from mysocial.reactions.cache import reaction_id
from tests.posts_helpers import KINDS, call, feed, post, refused_unchanged, users

LIVE = {"_deleted": {"$ne": True}}


def react(client, user, post_id: str, kind: str, user_to: str, status: int = 200):
    return call(client, "POST", "/post/reaction", user, status, json={
        "userTo": user_to, "postId": post_id, "type": kind, "profilePicture": "x", "previousReaction": "",
        "postReactions": {"like": 99}})


async def counts(client, reader) -> dict:
    return (await feed(client, reader))["posts"][0]["reactions"]


def stored_counts(db, post_id: str) -> dict:
    return db["posts"].find_one({"_id": ObjectId(post_id)})["reactions"]


def notifications(r) -> list[dict]:
    return [job.args[0] for job in Queue("notification", connection=r).jobs]


async def test_add_change_and_remove_a_reaction(client, db, r, drain):
    alice, bob = await users(client, "alice", "bobby")
    pid = (await post(client, alice, post="react to me"))["_id"]
    assert (await react(client, bob, pid, "like", alice.id))["message"] == "Reaction added successfully"
    assert await counts(client, alice) == {**dict.fromkeys(KINDS, 0), "like": 1}
    listed = await call(client, "GET", f"/post/reactions/{pid}", alice)
    assert listed["message"] == "Post reactions" and listed["count"] == 1
    doc = listed["reactions"][0]
    assert {k: doc[k] for k in ("_id", "postId", "type", "username", "avataColor", "userTo", "userId")} == {
        "_id": reaction_id(pid, "Bobby"), "postId": pid, "type": "like", "username": "Bobby", "avataColor": "#f00",
        "userTo": alice.id, "userId": bob.id}
    single = await call(client, "GET", f"/post/single/reaction/username/bobby/{pid}", alice)
    assert single == {"message": "Single post reaction by username", "reactions": doc, "count": 1}
    mine = await call(client, "GET", "/post/reactions/username/Bobby", alice)
    assert mine == {"message": "All user reactions by username", "reactions": [doc]}

    await react(client, bob, pid, "love", alice.id)
    await react(client, bob, pid, "love", alice.id)
    assert await counts(client, alice) == {**dict.fromkeys(KINDS, 0), "love": 1}, "a new kind replaces the old"
    await drain()
    assert stored_counts(db, pid)["love"] == 1 and stored_counts(db, pid)["like"] == 0
    assert db["reactions"].find_one({"_id": ObjectId(reaction_id(pid, "Bobby"))})["type"] == "love"

    removed = await call(client, "DELETE", f"/post/reaction/{pid}/love/%7B%22love%22%3A1%7D", bob)
    assert removed["message"] == "Reaction removed from post"
    assert await counts(client, alice) == dict.fromkeys(KINDS, 0)
    assert (await call(client, "GET", f"/post/reactions/{pid}", alice))["count"] == 0
    assert (await call(client, "GET", f"/post/single/reaction/username/Bobby/{pid}", alice))["reactions"] == {}
    answer = await call(client, "DELETE", f"/post/reaction/{pid}/love/{{}}", bob, 404)
    assert answer["message"] == "Reaction not found"
    await drain()
    assert stored_counts(db, pid) == dict.fromkeys(KINDS, 0)
    assert db["reactions"].count_documents(LIVE) == 0


async def test_reacting_again_after_removal_revives_the_same_document(client, db, drain):
    alice, bob = await users(client, "alice", "bobby")
    pid = (await post(client, alice, post="x"))["_id"]
    await react(client, bob, pid, "sad", alice.id)
    await call(client, "DELETE", f"/post/reaction/{pid}/sad/{{}}", bob)
    await drain()
    await react(client, bob, pid, "happy", alice.id)
    await drain()
    assert db["reactions"].find_one({"_id": ObjectId(reaction_id(pid, "Bobby")), **LIVE})["type"] == "happy"
    assert stored_counts(db, pid)["happy"] == 1 and stored_counts(db, pid)["sad"] == 0


BAD = [
    ("POST", "/post/reaction", {}, 400, "userTo is a required property"),
    ("POST", "/post/reaction", {"userTo": "{alice}"}, 400, "postId is a required property"),
    ("POST", "/post/reaction", {"userTo": "{alice}", "postId": "{pid}"}, 400, "Reaction type is a required property"),
    ("POST", "/post/reaction", {"userTo": "{alice}", "postId": "{pid}", "type": "meh"}, 400, "Invalid reaction type"),
    ("POST", "/post/reaction", {"userTo": "{alice}", "postId": "nope", "type": "like"}, 400, "Invalid post id"),
    ("POST", "/post/reaction", {"userTo": 5, "postId": "{pid}", "type": "like"}, 400, '"userTo" must be a string'),
    ("POST", "/post/reaction", {"userTo": "{alice}", "postId": "{pid}", "type": "like", "postReactions": [1]}, 400,
     '"postReactions" must be of type object'),
    ("POST", "/post/reaction", {"userTo": "{alice}", "postId": "{unknown}", "type": "like"}, 404, "Post not found"),
    ("DELETE", "/post/reaction/nope/like/{{}}", None, 400, "Invalid post id"),
    ("DELETE", "/post/reaction/{pid}/meh/{{}}", None, 400, "Invalid reaction type"),
    ("DELETE", "/post/reaction/{unknown}/like/{{}}", None, 404, "Post not found"),
    ("DELETE", "/post/reaction/{pid}/like/{{}}", None, 404, "Reaction not found"),
    ("GET", "/post/reactions/nope", None, 400, "Invalid post id"),
    ("GET", "/post/reactions/{unknown}", None, 404, "Post not found"),
    ("GET", "/post/single/reaction/username/Bobby/nope", None, 400, "Invalid post id"),
    ("GET", "/post/single/reaction/username/" + "x" * 65 + "/{pid}", None, 400, "Invalid username"),
    ("GET", "/post/reactions/username/" + "x" * 65, None, 400, "Invalid username"),
]


@pytest.mark.parametrize("method, path, body, status, message", BAD)
async def test_bad_reaction_requests_write_nothing(client, db, r, drain, method, path, body, status, message):
    alice, bob = await users(client, "alice", "bobby")
    pid = (await post(client, alice, post="x"))["_id"]
    await feed(client, alice)
    await call(client, "GET", f"/post/reactions/{pid}", alice)
    await refused_unchanged(client, r, db, drain, bob, method, path, body, status, message,
                            {"alice": alice.id, "pid": pid})


async def test_a_reaction_to_a_post_whose_hash_expired_before_the_commit_counts_once(client, db, r, drain,
                                                                                   monkeypatch):
    """The post is read, then its hash expires before the write commits: the post comes back as
    it was, with the reaction counted once, in Redis and in MongoDB."""
    author, fan = await users(client, "author", "fanny")
    pid = (await post(client, author, post="kept as it was"))["_id"]
    await drain()
    before = r.hgetall(f"post:{pid}")
    react_in_cache, calls = reactions_cache.react, []

    def react_after_expiry(pipe, post_id, *args):
        calls.append(1)
        if len(calls) == 1:
            pipe.delete(f"post:{post_id}")  # inside the transaction, just before the reaction is counted
        react_in_cache(pipe, post_id, *args)

    monkeypatch.setattr(reactions_cache, "react", react_after_expiry)
    await react(client, fan, pid, "love", author.id)
    assert len(calls) == 2, "refused, refilled, tried again"
    monkeypatch.undo()
    after = r.hgetall(f"post:{pid}")
    assert after == {**before, b"reactions.love": b"1"}
    await drain()
    assert db["posts"].find_one({"_id": ObjectId(pid)})["reactions"]["love"] == 1


async def test_fifty_users_reacting_at_once_count_exactly(client, db, r, drain):
    author, *crowd = await users(client, "author", *(f"user{n:02d}" for n in range(50)))
    pid = (await post(client, author, post="popular"))["_id"]
    first = {user.name: KINDS[n % 6] for n, user in enumerate(crowd)}
    await asyncio.gather(*(react(client, u, pid, first[u.name], author.id) for u in crowd))
    want = {kind: Counter(first.values())[kind] for kind in KINDS}
    assert await counts(client, author) == want
    assert (await call(client, "GET", f"/post/reactions/{pid}", author))["count"] == 50
    jobs = notifications(r)
    assert len(jobs) == 50 and {j["userTo"] for j in jobs} == {author.id}
    assert {j["userFrom"] for j in jobs} == {u.id for u in crowd}
    assert {(j["notificationType"], j["entityId"], j["post"]) for j in jobs} == {("reactions", pid, "popular")}

    await asyncio.gather(*(react(client, u, pid, "love", author.id) for u in crowd))
    assert await counts(client, author) == {**dict.fromkeys(KINDS, 0), "love": 50}
    await drain()
    assert stored_counts(db, pid) == {**dict.fromkeys(KINDS, 0), "love": 50}
    assert db["reactions"].count_documents({"postId": ObjectId(pid), "type": "love", **LIVE}) == 50

    leaving = crowd[:20]
    await asyncio.gather(*(call(client, "DELETE", f"/post/reaction/{pid}/love/{{}}", u) for u in leaving))
    assert await counts(client, author) == {**dict.fromkeys(KINDS, 0), "love": 30}
    await drain()
    assert stored_counts(db, pid)["love"] == 30
    assert db["reactions"].count_documents({"postId": ObjectId(pid), **LIVE}) == 30


async def test_one_user_racing_every_kind_is_counted_once(client, db, drain):
    alice, bob = await users(client, "alice", "bobby")
    pid = (await post(client, alice, post="x"))["_id"]
    await asyncio.gather(*(react(client, bob, pid, kind, alice.id) for _ in range(5) for kind in KINDS))
    final = await counts(client, alice)
    assert sum(final.values()) == 1
    kind = next(k for k, v in final.items() if v)
    single = await call(client, "GET", f"/post/single/reaction/username/Bobby/{pid}", alice)
    assert single["reactions"]["type"] == kind
    await drain()
    assert stored_counts(db, pid) == final


async def test_no_notification_for_reacting_to_ones_own_post(client, r):
    alice, bob = await users(client, "alice", "bobby")
    created = await post(client, alice, "/post/image/post", image="data:image/png;base64,iVBORw0KGgo=",
                         post="pic", gifUrl="g")
    await react(client, alice, created["_id"], "like", alice.id)
    assert notifications(r) == []
    await react(client, bob, created["_id"], "wow", bob.id)
    (job,) = notifications(r)
    assert ObjectId.is_valid(job.pop("_id")) and job.pop("createdAt")  # decided at enqueue
    assert job == {
        "userTo": alice.id, "userFrom": bob.id, "notificationType": "reactions",
        "message": "Bobby reacted to your post.", "entityId": created["_id"],
        "createdItemId": reaction_id(created["_id"], "Bobby"), "comment": "", "reaction": "wow", "post": "pic",
        "imgId": created["imgId"], "imgVersion": created["imgVersion"], "gifUrl": "g"}, "userTo is the real author"
