"""Comments: add, list, names, single, edit and delete own; atomic commentsCount; notifications."""
from __future__ import annotations

import asyncio

import pytest
from bson import ObjectId
from rq import Queue

from tests.conftest import redis_state
from tests.posts_helpers import call, feed, mongo_state, post, refused_unchanged, users

LIVE = {"_deleted": {"$ne": True}}


def comment(client, user, post_id: str, text: str, user_to: str, status: int = 200):
    return call(client, "POST", "/post/comment", user, status,
                json={"userTo": user_to, "postId": post_id, "comment": text, "commentsCount": 99})


async def count(client, reader) -> int:
    return (await feed(client, reader))["posts"][0]["commentsCount"]


def stored_count(db, post_id: str) -> int:
    return db["posts"].find_one({"_id": ObjectId(post_id)})["commentsCount"]


async def test_comment_list_names_single_edit_delete(client, db, r, drain):
    alice, bob, carol = await users(client, "alice", "bobby", "carol")
    pid = (await post(client, alice, post="talk to me"))["_id"]
    body = await comment(client, bob, pid, "first!", alice.id)
    assert body["message"] == "Comment created successfully"
    first = body["comment"]
    second = (await comment(client, carol, pid, "second", alice.id))["comment"]
    third = (await comment(client, bob, pid, "again", alice.id))["comment"]
    assert {k: first[k] for k in ("postId", "username", "avatarColor", "comment", "userTo", "userId")} == {
        "postId": pid, "username": "Bobby", "avatarColor": "#f00", "comment": "first!", "userTo": alice.id,
        "userId": bob.id}
    assert await count(client, alice) == 3

    listed = await call(client, "GET", f"/post/comments/{pid}", carol)
    assert listed == {"message": "Post comments", "comments": [third, second, first]}
    names = await call(client, "GET", f"/post/commentsnames/{pid}", carol)
    assert names == {"message": "Post comments names", "comments": {"count": 3, "names": ["Bobby", "Carol"]}}
    single = await call(client, "GET", f"/post/single/comment/{pid}/{second['_id']}", bob)
    assert single == {"message": "Single comment", "comments": second}

    edited = await call(client, "PUT", f"/post/comment/{pid}/{first['_id']}", bob, json={"comment": "edited"})
    assert edited["message"] == "Comment updated successfully" and edited["comment"]["comment"] == "edited"
    deleted = await call(client, "DELETE", f"/post/comment/{pid}/{third['_id']}", bob)
    assert deleted["message"] == "Comment deleted successfully"
    assert await count(client, alice) == 2
    assert [c["_id"] for c in (await call(client, "GET", f"/post/comments/{pid}", alice))["comments"]] == [
        second["_id"], first["_id"]]
    await call(client, "GET", f"/post/single/comment/{pid}/{third['_id']}", alice, 404)

    await drain()
    assert stored_count(db, pid) == 2
    assert db["comments"].find_one({"_id": ObjectId(first["_id"])})["comment"] == "edited"
    assert db["comments"].find_one({"_id": ObjectId(third["_id"]), **LIVE}) is None


async def test_notifications_for_comments(client, r):
    alice, bob = await users(client, "alice", "bobby")
    pid = (await post(client, alice, post="the post"))["_id"]
    await comment(client, alice, pid, "my own", alice.id)
    made = (await comment(client, bob, pid, "hello", bob.id))["comment"]
    (job,) = [job.args[0] for job in Queue("notification", connection=r).jobs]
    assert ObjectId.is_valid(job.pop("_id")) and job.pop("createdAt")  # decided at enqueue
    assert job == {
        "userTo": alice.id, "userFrom": bob.id, "notificationType": "comments",
        "message": "Bobby commented on your post.", "entityId": pid, "createdItemId": made["_id"],
        "comment": "hello", "reaction": "", "post": "the post", "imgId": "", "imgVersion": "", "gifUrl": ""}


async def test_someone_elses_comment_cannot_be_edited_or_deleted(client, db, r, drain):
    alice, bob, carol = await users(client, "alice", "bobby", "carol")
    pid = (await post(client, alice, post="x"))["_id"]
    theirs = (await comment(client, bob, pid, "bob's words", alice.id))["comment"]
    await call(client, "GET", f"/post/comments/{pid}", alice)
    await drain()
    before, mongo_before = redis_state(r), mongo_state(db)
    for user in (alice, carol):
        answer = await call(client, "PUT", f"/post/comment/{pid}/{theirs['_id']}", user, 403, json={"comment": "mine"})
        assert answer["message"] == "You can only change your own comments"
        await call(client, "DELETE", f"/post/comment/{pid}/{theirs['_id']}", user, 403)
    assert redis_state(r) == before
    await drain()
    assert mongo_state(db) == mongo_before


BAD = [
    ("POST", "/post/comment", {}, 400, "userTo is a required property"),
    ("POST", "/post/comment", {"userTo": "{alice}"}, 400, "postId is a required property"),
    ("POST", "/post/comment", {"userTo": "{alice}", "postId": "{pid}"}, 400, "comment is a required property"),
    ("POST", "/post/comment", {"userTo": "{alice}", "postId": "{pid}", "comment": "  "}, 400,
     '"comment" is not allowed to be empty'),
    ("POST", "/post/comment", {"userTo": "", "postId": "{pid}", "comment": "x"}, 400, '"userTo" is not allowed to be empty'),
    ("POST", "/post/comment", {"userTo": "{alice}", "postId": "{pid}", "comment": "x", "commentsCount": "many"}, 400,
     '"commentsCount" must be a number'),
    ("POST", "/post/comment", {"userTo": "{alice}", "postId": "{pid}", "comment": "x" * 5001}, 400, "Comment is too long"),
    ("POST", "/post/comment", {"userTo": "{alice}", "postId": "{pid}", "comment": 7}, 400, '"comment" must be a string'),
    ("POST", "/post/comment", {"userTo": "{alice}", "postId": "bad", "comment": "x"}, 400, "Invalid post id"),
    ("POST", "/post/comment", {"userTo": "{alice}", "postId": "{unknown}", "comment": "x"}, 404, "Post not found"),
    ("GET", "/post/comments/bad", None, 400, "Invalid post id"),
    ("GET", "/post/comments/{unknown}", None, 404, "Post not found"),
    ("GET", "/post/commentsnames/bad", None, 400, "Invalid post id"),
    ("GET", "/post/single/comment/{pid}/bad", None, 400, "Invalid comment id"),
    ("GET", "/post/single/comment/{pid}/{unknown}", None, 404, "Comment not found"),
    ("GET", "/post/single/comment/{other}/{cid}", None, 404, "Comment not found"),
    ("PUT", "/post/comment/{pid}/{cid}", {"comment": ""}, 400, '"comment" is not allowed to be empty'),
    ("PUT", "/post/comment/{pid}/{cid}", {}, 400, "comment is a required property"),
    ("PUT", "/post/comment/{pid}/bad", {"comment": "x"}, 400, "Invalid comment id"),
    ("PUT", "/post/comment/{other}/{cid}", {"comment": "x"}, 404, "Comment not found"),
    ("DELETE", "/post/comment/bad/{cid}", None, 400, "Invalid post id"),
    ("DELETE", "/post/comment/{pid}/{unknown}", None, 404, "Comment not found"),
    ("DELETE", "/post/comment/{unknown}/{cid}", None, 404, "Post not found"),
]


@pytest.mark.parametrize("method, path, body, status, message", BAD)
async def test_bad_comment_requests_write_nothing(client, db, r, drain, method, path, body, status, message):
    alice, bob = await users(client, "alice", "bobby")
    pid = (await post(client, alice, post="x"))["_id"]
    other = (await post(client, alice, post="y"))["_id"]
    cid = (await comment(client, bob, pid, "hi", alice.id))["comment"]["_id"]
    await feed(client, alice)
    await call(client, "GET", f"/post/comments/{pid}", alice)
    await refused_unchanged(client, r, db, drain, bob, method, path, body, status, message,
                            {"alice": alice.id, "pid": pid, "other": other, "cid": cid})


async def test_fifty_concurrent_comments_count_exactly(client, db, drain):
    author, *crowd = await users(client, "author", *(f"user{n:02d}" for n in range(25)))
    pid = (await post(client, author, post="discuss"))["_id"]
    made = await asyncio.gather(*(comment(client, u, pid, f"{u.name} #{n}", author.id) for u in crowd for n in (1, 2)))
    assert await count(client, author) == 50
    assert len((await call(client, "GET", f"/post/comments/{pid}", author))["comments"]) == 50
    names = (await call(client, "GET", f"/post/commentsnames/{pid}", author))["comments"]
    assert names["count"] == 50 and sorted(names["names"]) == sorted(u.name for u in crowd)
    await drain()
    assert stored_count(db, pid) == 50
    assert db["comments"].count_documents({"postId": ObjectId(pid), **LIVE}) == 50

    doomed = [m["comment"] for m in made[:20]]
    owners = {u.id: u for u in crowd}
    await asyncio.gather(*(call(client, "DELETE", f"/post/comment/{pid}/{c['_id']}", owners[c["userId"]])
                           for c in doomed))
    assert await count(client, author) == 30
    await drain()
    assert stored_count(db, pid) == 30
    assert db["comments"].count_documents({"postId": ObjectId(pid), **LIVE}) == 30


async def test_racing_deletes_of_one_comment_count_once(client, db, drain):
    alice, bob = await users(client, "alice", "bobby")
    pid = (await post(client, alice, post="x"))["_id"]
    keep = (await comment(client, bob, pid, "keep", alice.id))["comment"]
    gone = (await comment(client, bob, pid, "gone", alice.id))["comment"]
    results = await asyncio.gather(*(client.delete(f"/api/v1/post/comment/{pid}/{gone['_id']}", headers=bob.h)
                                     for _ in range(8)))
    assert 200 in {res.status for res in results} and {res.status for res in results} <= {200, 404}
    assert await count(client, alice) == 1
    await drain()
    assert stored_count(db, pid) == 1
    assert [c["_id"] for c in (await call(client, "GET", f"/post/comments/{pid}", alice))["comments"]] == [keep["_id"]]
