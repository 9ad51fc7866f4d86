"""Posts: create, edit, delete and the paged feeds, through the write path to MongoDB."""
from __future__ import annotations

import asyncio
from pathlib import Path

import orjson
import pytest
from bson import ObjectId

from mysocial.core.appkeys import MONGO
from mysocial.core.mongo import upsert_one
from mysocial.core.redis import from_hash
from mysocial.core.writepath import PENDING
from mysocial.posts import cache as posts_cache
from mysocial.posts import store as posts_store
from tests.conftest import PNG, redis_state
from tests.posts_helpers import MP4, call, feed, feed_ids, mongo_state, post, users
from workers.persist import persist

LIVE = {"_deleted": {"$ne": True}}


def stored(db, post_id: str) -> dict | None:
    return db["posts"].find_one({"_id": ObjectId(post_id), **LIVE})


async def test_a_post_is_counted_when_its_authors_hash_expired_before_the_commit(client, db, r, drain, monkeypatch):
    """The author's hash is read, then expires before the write commits: the post still counts
    once, in Redis and in MongoDB."""
    (alice,) = await users(client, "alice")
    await drain()
    create, calls = posts_cache.create, []

    def create_after_expiry(pipe, doc):
        calls.append(1)
        if len(calls) == 1:
            pipe.delete(f"user:{alice.id}")  # inside the transaction, just before the post is counted
        create(pipe, doc)

    monkeypatch.setattr(posts_cache, "create", create_after_expiry)
    await post(client, alice, post="first")
    assert len(calls) == 2, "refused, refilled, tried again"
    monkeypatch.undo()
    await post(client, alice, post="second")
    me = await call(client, "GET", "/currentuser", alice)
    assert me["user"]["postsCount"] == 2
    await drain()
    assert db["users"].find_one({"_id": ObjectId(alice.id)})["postsCount"] == 2


async def test_create_text_post_is_cached_answered_and_persisted(client, db, r, drain):
    (alice,) = await users(client, "alice")
    body = await call(client, "POST", "/post", alice, 201, json={
        "post": "hello", "bgColor": "#ffffff", "feelings": "happy", "gifUrl": "https://gif/x.gif",
        "privacy": "Followers", "profilePicture": "ignored"})
    assert body["message"] == "Post created successfully"
    created = body["post"]
    assert {k: created[k] for k in ("post", "bgColor", "feelings", "gifUrl", "privacy", "userId", "username")} == {
        "post": "hello", "bgColor": "#ffffff", "feelings": "happy", "gifUrl": "https://gif/x.gif",
        "privacy": "Followers", "userId": alice.id, "username": "Alice"}
    assert created["reactions"] == dict.fromkeys(("like", "love", "happy", "wow", "sad", "angry"), 0)
    assert created["commentsCount"] == 0 and created["profilePicture"].endswith(f"{alice.id}.png")
    assert (await call(client, "GET", "/user/profile", alice))["user"]["postsCount"] == 1
    assert stored(db, created["_id"]) is None, "written behind, not on the request"

    await drain()
    doc = stored(db, created["_id"])
    assert doc["post"] == "hello" and doc["privacy"] == "Followers" and str(doc["userId"]) == alice.id
    assert doc["reactions"] == created["reactions"]
    assert db["users"].find_one({"_id": ObjectId(alice.id)})["postsCount"] == 1
    assert not r.hexists(PENDING, f"post:{created['_id']}")
    assert (await feed(client, alice))["posts"] == [created]


async def test_image_and_video_posts_go_to_their_lists(client, settings, db, drain):
    (alice,) = await users(client, "alice")
    image = await post(client, alice, "/post/image/post", image=PNG, post="pic")
    video = await post(client, alice, "/post/video/post", video=MP4, post="clip")
    assert image["imgId"] and image["imgVersion"] and image["videoId"] == ""
    assert video["videoId"] and video["videoVersion"] and video["imgId"] == ""
    assert (Path(settings.media_dir) / f"{image['imgId']}.png").exists()
    assert (Path(settings.media_dir) / f"{video['videoId']}.mp4").exists()
    assert await feed_ids(client, alice, "images") == [image["_id"]]
    assert await feed_ids(client, alice, "videos") == [video["_id"]]
    assert await feed_ids(client, alice, "all") == [video["_id"], image["_id"]]
    messages = {(await call(client, "GET", f"/post/{name}/1", alice))["message"] for name in ("all", "images", "videos")}
    assert messages == {"All posts", "All posts with images", "All posts with videos"}
    await drain()
    assert stored(db, image["_id"])["imgId"] == image["imgId"]
    assert stored(db, video["_id"])["videoId"] == video["videoId"]


CREATE_ERRORS = [
    ("/post", {"privacy": "Friends"}, "Invalid privacy"),
    ("/post", {"feelings": "meh"}, "Invalid feelings"),
    ("/post", {"post": 123}, '"post" must be a string'),
    ("/post/image/post", {"image": None}, '"image" must be a string'),
    ("/post/video/post", {"post": "no video"}, "Video is required"),
    ("/post/video/post", {"video": ""}, "Video property is not allowed to be empty"),
    ("/post", {"post": "x" * 10_001}, "Post is too long"),
    ("/post/image/post", {"post": "no image"}, "Image is a required field"),
    ("/post/image/post", {"image": ""}, "Image property is not allowed to be empty"),
    ("/post/image/post", {"image": "data:text/plain;base64,aGk="}, "File upload: Error occurred. Try again."),
    ("/post/image/post", {"image": "data:image/png;base64,@@@"}, "File upload: Error occurred. Try again."),
    ("/post/video/post", {}, "Video is required"),
    ("/post/video/post", {"video": ""}, "Video property is not allowed to be empty"),
    ("/post/video/post", {"video": PNG}, "File upload: Error occurred. Try again."),
]


@pytest.mark.parametrize("path, body, message", CREATE_ERRORS)
async def test_bad_create_answers_400_and_writes_nothing(client, settings, db, r, drain, path, body, message):
    (alice,) = await users(client, "alice")
    await drain()
    before, mongo_before = redis_state(r), mongo_state(db)
    answer = await call(client, "POST", path, alice, 400, json=body)
    assert answer["message"] == message
    assert redis_state(r) == before
    await drain()
    assert mongo_state(db) == mongo_before
    assert {p.stem for p in Path(settings.media_dir).iterdir()} == {alice.id}, "no media file but the avatar"


async def test_create_needs_auth_and_json(client, r):
    before = redis_state(r)
    answer = await call(client, "POST", "/post", None, 401, json={"post": "x"})
    assert answer["message"] == "Token is not available. Please login again."
    assert redis_state(r) == before
    (alice,) = await users(client, "alice")
    before = redis_state(r)
    answer = await call(client, "POST", "/post", alice, 400, data=b"{not json",
                        headers={"Content-Type": "application/json"})
    assert answer["message"] == "Request body is not valid JSON"
    answer = await call(client, "POST", "/post", alice, 415, data=b'{"post": "x"}')
    assert answer["message"] == "Request body must be JSON (Content-Type: application/json)"
    assert redis_state(r) == before


async def test_edits_plain_image_and_video(client, db, drain):
    (alice,) = await users(client, "alice")
    created = await post(client, alice, post="first", privacy="Public")
    pid = created["_id"]
    body = await call(client, "PUT", f"/post/{pid}", alice, json={"post": "edited", "feelings": "wow", "bgColor": "red"})
    assert body["message"] == "Post updated successfully"
    assert (body["post"]["post"], body["post"]["feelings"], body["post"]["privacy"]) == ("edited", "wow", "Public")

    body = await call(client, "PUT", f"/post/image/{pid}", alice, json={"image": PNG, "post": "with image"})
    assert body["message"] == "Post with image updated successfully"
    img_id = body["post"]["imgId"]
    assert img_id and await feed_ids(client, alice, "images") == [pid] and await feed_ids(client, alice, "videos") == []
    body = await call(client, "PUT", f"/post/image/{pid}", alice, json={"imgId": img_id, "post": "kept image"})
    assert body["post"]["imgId"] == img_id and body["post"]["post"] == "kept image"

    body = await call(client, "PUT", f"/post/video/{pid}", alice, json={"video": MP4})
    assert body["message"] == "Post with video updated successfully"
    assert body["post"]["videoId"] and body["post"]["imgId"] == "", "a post has an image or a video"
    assert await feed_ids(client, alice, "videos") == [pid] and await feed_ids(client, alice, "images") == []

    body = await call(client, "PUT", f"/post/{pid}", alice, json={"videoId": "", "videoVersion": ""})
    assert body["post"]["videoId"] == "" and await feed_ids(client, alice, "videos") == []
    assert body["post"]["post"] == "kept image", "fields not sent are kept"

    await drain()
    doc = stored(db, pid)
    assert (doc["post"], doc["feelings"], doc["bgColor"], doc["imgId"], doc["videoId"]) == (
        "kept image", "wow", "red", "", "")
    assert (await feed(client, alice))["posts"][0] == body["post"]


EDIT_ERRORS = [
    ("PUT", "/post/{pid}", {"privacy": "Everyone"}, 400, "Invalid privacy"),
    ("PUT", "/post/{pid}", {"imgId": "someone-elses"}, 400, "Invalid image id"),
    ("PUT", "/post/image/{pid}", {"post": "no image"}, 400, "Image is a required field"),
    ("PUT", "/post/image/{pid}", {"imgId": "not-this-posts"}, 400, "Image is a required field"),
    ("PUT", "/post/image/{pid}", {"image": "data:image/png;base64,!!"}, 400, "File upload: Error occurred. Try again."),
    ("PUT", "/post/video/{pid}", {}, 400, "Video is required"),
    ("PUT", "/post/not-an-id", {"post": "x"}, 400, "Invalid post id"),
    ("DELETE", "/post/not-an-id", None, 400, "Invalid post id"),
    ("PUT", f"/post/{ObjectId()}", {"post": "x"}, 404, "Post not found"),
    ("DELETE", f"/post/{ObjectId()}", None, 404, "Post not found"),
]


@pytest.mark.parametrize("method, path, body, status, message", EDIT_ERRORS)
async def test_bad_edit_or_delete_changes_nothing(client, db, r, drain, method, path, body, status, message):
    (alice,) = await users(client, "alice")
    pid = (await post(client, alice, post="keep me"))["_id"]
    await feed(client, alice)
    await drain()
    before, mongo_before = redis_state(r), mongo_state(db)
    answer = await call(client, method, path.format(pid=pid), alice, status, json=body)
    assert answer["message"] == message
    assert redis_state(r) == before
    await drain()
    assert mongo_state(db) == mongo_before


async def test_someone_elses_post_cannot_be_edited_or_deleted(client, db, r, drain):
    alice, bob = await users(client, "alice", "bobby")
    public = (await post(client, alice, post="mine", privacy="Public"))["_id"]
    private = (await post(client, alice, post="secret", privacy="Private"))["_id"]
    await feed(client, bob)
    await drain()
    before, mongo_before = redis_state(r), mongo_state(db)
    for method, path, body in (("PUT", "/post/{}", {"post": "hacked"}), ("PUT", "/post/image/{}", {"image": PNG}),
                               ("PUT", "/post/video/{}", {"video": MP4}), ("DELETE", "/post/{}", None)):
        assert (await call(client, method, path.format(public), bob, 403, json=body))["message"] == \
            "You can only change your own posts"
        assert (await call(client, method, path.format(private), bob, 404, json=body))["message"] == "Post not found"
    assert redis_state(r) == before
    await drain()
    assert mongo_state(db) == mongo_before


async def test_delete_post_moves_counts_and_leaves_a_tombstone(client, db, drain):
    (alice,) = await users(client, "alice")
    keep = await post(client, alice, post="keep")
    gone = await post(client, alice, "/post/image/post", image=PNG, post="gone")
    await drain()
    body = await call(client, "DELETE", f"/post/{gone['_id']}", alice)
    assert body["message"] == "Post deleted successfully"
    assert await feed_ids(client, alice) == [keep["_id"]] and await feed_ids(client, alice, "images") == []
    assert (await feed(client, alice))["totalPosts"] == 1
    assert (await call(client, "GET", "/user/profile", alice))["user"]["postsCount"] == 1
    await call(client, "DELETE", f"/post/{gone['_id']}", alice, 404)
    await drain()
    assert stored(db, gone["_id"]) is None and db["posts"].find_one({"_id": ObjectId(gone["_id"])})["_deleted"]
    assert db["users"].find_one({"_id": ObjectId(alice.id)})["postsCount"] == 1


async def test_concurrent_deletes_of_one_post_count_once(client, db, drain):
    (alice,) = await users(client, "alice")
    posts = [await post(client, alice, post=str(n)) for n in range(3)]
    results = await asyncio.gather(*(client.delete(f"/api/v1/post/{posts[0]['_id']}", headers=alice.h)
                                     for _ in range(8)))
    assert sorted({res.status for res in results}) in ([200], [200, 404])
    assert (await call(client, "GET", "/user/profile", alice))["user"]["postsCount"] == 2
    assert (await feed(client, alice))["totalPosts"] == 2
    await drain()
    assert db["users"].find_one({"_id": ObjectId(alice.id)})["postsCount"] == 2


async def test_concurrent_creates_count_exactly(client, db, drain):
    (alice,) = await users(client, "alice")
    await asyncio.gather(*(post(client, alice, post=f"n{n}") for n in range(30)))
    assert (await call(client, "GET", "/user/profile", alice))["user"]["postsCount"] == 30
    assert (await feed(client, alice))["totalPosts"] == 30
    await drain()
    assert db["users"].find_one({"_id": ObjectId(alice.id)})["postsCount"] == 30
    assert db["posts"].count_documents(LIVE) == 30


async def test_pages_of_ten_newest_first(client):
    (alice,) = await users(client, "alice")
    made = [(await post(client, alice, post=f"n{n}"))["_id"] for n in range(23)]
    newest_first = made[::-1]
    pages = [await feed(client, alice, page=n) for n in (1, 2, 3, 4)]
    assert [p["_id"] for p in pages[0]["posts"]] == newest_first[:10]
    assert [p["_id"] for p in pages[1]["posts"]] == newest_first[10:20]
    assert [p["_id"] for p in pages[2]["posts"]] == newest_first[20:]
    assert pages[3]["posts"] == [] and {p["totalPosts"] for p in pages} == {23}
    for bad in ("0", "abc", "-1"):
        assert (await call(client, "GET", f"/post/all/{bad}", alice, 400))["message"] == "Invalid page"


async def test_pages_stay_full_after_filtering(client):
    alice, bob, carol = await users(client, "alice", "bobby", "carol")
    public = []
    for n in range(15):
        await post(client, bob, post=f"secret {n}", privacy="Private")
        if n < 12:
            public.append((await post(client, alice, post=f"public {n}"))["_id"])
    page1, page2 = await feed(client, carol, page=1), await feed(client, carol, page=2)
    assert [p["_id"] for p in page1["posts"] + page2["posts"]] == public[::-1]
    assert len(page1["posts"]) == 10 and page1["totalPosts"] == page2["totalPosts"] == 12
    assert (await feed(client, bob))["totalPosts"] == 27


async def test_profile_posts(client):
    alice, bob = await users(client, "alice", "bobby")
    mine = [(await post(client, alice, post=f"a{n}"))["_id"] for n in range(3)]
    await post(client, bob, post="not alice's")
    body = await call(client, "GET", f"/user/profile/posts/{alice.name}/{alice.id}/{alice.uid}", bob)
    assert body["message"] == "Get user profile and posts"
    assert body["user"]["_id"] == alice.id and [p["_id"] for p in body["posts"]] == mine[::-1]
    lower = await call(client, "GET", f"/user/profile/posts/alice/{alice.id}/{alice.uid}", bob)
    assert lower["posts"] == body["posts"]
    assert (await call(client, "GET", f"/user/profile/posts/Alice/nope/{alice.uid}", bob, 400))["message"] == \
        "Invalid user id"
    for path in (f"/user/profile/posts/Alice/{ObjectId()}/{alice.uid}", f"/user/profile/posts/Bobby/{alice.id}/{alice.uid}",
                 f"/user/profile/posts/Alice/{alice.id}/000000000000"):
        assert (await call(client, "GET", path, bob, 404))["message"] == "User not found"


async def test_post_worker_is_idempotent_and_version_guarded(client, db, r):
    (alice,) = await users(client, "alice")
    created = await post(client, alice, post="v1")
    v1 = int(r.hget(PENDING, f"post:{created['_id']}"))
    await call(client, "PUT", f"/post/{created['_id']}", alice, json={"post": "v2"})
    assert persist("post", created["_id"]) == "stored"
    assert persist("post", created["_id"]) == "clean", "a duplicate job finds nothing pending"
    old = {**created, "post": "v1"}
    assert await upsert_one(posts_store.upsert(client.server.app[MONGO], created["_id"], old, v1)) is False, "an older job cannot overwrite a newer state"
    assert stored(db, created["_id"])["post"] == "v2"


async def test_feed_posts_come_from_their_encoded_json_with_the_counters_merged(client, db, r, drain):
    alice, bob = await users(client, "alice", "bobby")
    made = await post(client, alice, post='say "hi" ✓', bgColor="#ffffff", feelings="happy")
    await call(client, "POST", "/post/reaction", bob, json={
        "userTo": alice.id, "postId": made["_id"], "type": "love", "profilePicture": "", "previousReaction": "",
        "postReactions": {}})
    await call(client, "POST", "/post/comment", bob, json={"userTo": alice.id, "postId": made["_id"],
                                                           "comment": "nice", "profilePicture": ""})
    assert r.hexists(f"post:{made['_id']}", posts_cache.ENCODED)
    decoded = posts_cache.unflatten(from_hash(r.hgetall(f"post:{made['_id']}")))
    [served] = (await feed(client, bob))["posts"]
    assert served == decoded and served["reactions"]["love"] == 1 and served["commentsCount"] == 1
    assert posts_cache.ENCODED not in served

    await call(client, "PUT", f"/post/{made['_id']}", alice, json={"post": "edited", "bgColor": "#000000",
                                                                  "privacy": "Public", "feelings": "sad"})
    [served] = (await feed(client, bob))["posts"]
    assert (served["post"], served["feelings"], served["reactions"]["love"]) == ("edited", "sad", 1)

    await drain()
    assert posts_cache.ENCODED not in stored(db, made["_id"]), "MongoDB keeps the document, not the bytes"
    encoded = r.hget(f"post:{made['_id']}", posts_cache.ENCODED)
    r.delete(f"post:{made['_id']}")  # evicted: read through from MongoDB, and encoded again as it is filled
    [served] = (await feed(client, bob))["posts"]
    assert served["post"] == "edited" and served["reactions"]["love"] == 1
    assert r.hget(f"post:{made['_id']}", posts_cache.ENCODED) == encoded, "the same bytes, however it was made"
    r.hdel(f"post:{made['_id']}", posts_cache.ENCODED)  # cached before posts were encoded (an upgrade)
    [served] = (await feed(client, bob))["posts"]
    assert served["post"] == "edited" and r.hget(f"post:{made['_id']}", posts_cache.ENCODED) == encoded
    r.hset(f"post:{made['_id']}", posts_cache.ENCODED, orjson.dumps(encoded[:-1].decode()))  # an earlier version's form
    [served] = (await feed(client, bob))["posts"]
    assert served["post"] == "edited" and r.hget(f"post:{made['_id']}", posts_cache.ENCODED) == encoded
