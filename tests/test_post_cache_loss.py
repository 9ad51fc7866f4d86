"""Reads stay correct when Redis lost post data: evicted hashes, lost lists, a flushed cache."""
from __future__ import annotations

import asyncio
from datetime import timedelta

import aiohttp
from bson import ObjectId

from mysocial.core.cache import Kind, get
from mysocial.core.appkeys import MONGO
from mysocial.posts import cache as posts_cache
from mysocial.posts import store as posts_store
from tests.conftest import PNG, until
from tests.posts_helpers import KINDS, MP4, call, feed, follow, post, users


async def world(client, settings) -> dict:
    """Posts of every kind and privacy, reactions, comments and images; returns what reads need."""
    alice, fred, sam = await users(client, "alice", "fredo", "samwi")
    await follow(client, fred, alice)
    ids = []
    for n in range(14):
        privacy = ("Public", "Followers", "Private")[n % 3]
        if n % 4 == 1:
            made = await post(client, alice, "/post/image/post", image=PNG, post=f"img {n}", privacy=privacy)
        elif n % 4 == 2:
            made = await post(client, alice, "/post/video/post", video=MP4, post=f"vid {n}", privacy=privacy)
        else:
            made = await post(client, alice, post=f"text {n}", privacy=privacy, feelings="happy", bgColor="#abc")
        ids.append(made["_id"])
    target = ids[13]  # a Followers post with an image
    for user, kind in ((fred, "love"), (sam, "wow"), (alice, "like")):
        await call(client, "POST", "/post/reaction", user, json={"userTo": alice.id, "postId": ids[0], "type": kind})
    await call(client, "POST", "/post/reaction", fred, json={"userTo": alice.id, "postId": target, "type": "sad"})
    for user, text in ((fred, "first"), (alice, "reply"), (fred, "again")):
        made = await call(client, "POST", "/post/comment", user, json={"userTo": alice.id, "postId": target,
                                                                        "comment": text})
    await call(client, "POST", "/images/profile", alice, json={"image": PNG})
    await call(client, "POST", "/images/background", alice, json={"image": PNG})
    return {"alice": alice, "fred": fred, "sam": sam, "ids": ids, "target": target, "comment": made["comment"]["_id"]}


async def reads(client, w: dict) -> dict:
    alice, target = w["alice"], w["target"]
    paths = [f"/post/{name}/{page}" for name in ("all", "images", "videos") for page in (1, 2)]
    paths += [f"/user/profile/posts/{alice.name}/{alice.id}/{alice.uid}", f"/post/reactions/{w['ids'][0]}",
              f"/post/reactions/{target}", f"/post/single/reaction/username/Fredo/{target}",
              "/post/reactions/username/Fredo", f"/post/comments/{target}", f"/post/commentsnames/{target}",
              f"/post/single/comment/{target}/{w['comment']}", f"/images/{alice.id}", f"/user/profile/{alice.id}"]
    return {(reader, path): await call(client, "GET", path, w[reader])
            for reader in ("alice", "fred", "sam") for path in paths
            if not (reader == "sam" and ("single" in path or path.endswith(target)))}


async def test_everything_reads_the_same_after_redis_is_flushed(client, settings, r, drain):
    w = await world(client, settings)
    before = await reads(client, w)
    assert len(before[("alice", "/post/all/1")]["posts"]) == 10
    assert before[("alice", "/post/all/2")]["totalPosts"] == 14
    await drain()
    r.flushdb()  # sessions, follows, blocks, every index: all come back from MongoDB
    assert await reads(client, w) == before


async def test_evicted_hashes_are_read_through(client, settings, r, drain):
    w = await world(client, settings)
    before = await reads(client, w)
    await drain()
    evicted = [k for pattern in ("post:*", "reaction:*", "comment:*", "image:*", "user:*") for k in r.keys(pattern)]
    assert evicted and all(r.ttl(k) > 0 for k in evicted), "persisted entries carry the cache TTL"
    r.delete(*evicted)
    assert await reads(client, w) == before
    assert r.exists(posts_cache.key(w["ids"][0]))


async def test_counts_continue_from_mongodb_after_a_flush(client, settings, db, r, drain):
    w = await world(client, settings)
    alice, fred, sam, first = w["alice"], w["fred"], w["sam"], w["ids"][0]
    await drain()
    r.flushdb()
    await call(client, "POST", "/post/reaction", sam, json={"userTo": alice.id, "postId": first, "type": "love"})
    await call(client, "DELETE", f"/post/reaction/{first}/love/{{}}", fred)
    await call(client, "POST", "/post/comment", sam, json={"userTo": alice.id, "postId": first, "comment": "late"})
    await call(client, "POST", "/post", alice, 201, json={"post": "after the flush"})
    top = (await feed(client, alice))["posts"] + (await feed(client, alice, page=2))["posts"]
    assert top[0]["post"] == "after the flush"
    reacted = next(p for p in top if p["_id"] == first)
    assert reacted["reactions"] == {**dict.fromkeys(KINDS, 0), "like": 1, "love": 1}, "wow->love, fred's love gone"
    assert reacted["commentsCount"] == 1
    assert (await feed(client, alice))["totalPosts"] == 15
    assert (await call(client, "GET", "/user/profile", alice))["user"]["postsCount"] == 15
    await drain()
    assert db["posts"].find_one({"_id": ObjectId(first)})["reactions"] == reacted["reactions"]
    assert db["users"].find_one({"_id": ObjectId(alice.id)})["postsCount"] == 15


async def test_lost_lists_are_rebuilt_without_posts_deleted_meanwhile(client, settings, r, drain):
    (alice,) = await users(client, "alice")
    made = [(await post(client, alice, post=str(n)))["_id"] for n in range(3)]
    await drain()
    await call(client, "DELETE", f"/post/{made[1]}", alice)  # MongoDB still has it: not drained
    r.delete(b"complete:posts", *r.keys("posts*"))
    body = await feed(client, alice)  # from MongoDB, while the lists are rebuilt
    assert [p["_id"] for p in body["posts"]] == [made[2], made[0]] and body["totalPosts"] == 2
    await until(lambda: r.exists("complete:posts"), "the lists are rebuilt")
    body = await feed(client, alice)
    assert [p["_id"] for p in body["posts"]] == [made[2], made[0]] and body["totalPosts"] == 2


async def test_a_read_does_not_bring_back_a_deleted_post(client, db, r, drain):
    (alice,) = await users(client, "alice")
    pid = (await post(client, alice, post="soon gone"))["_id"]
    await drain()
    old = posts_cache.flatten(await posts_store.find(client.app[MONGO], pid))
    await call(client, "DELETE", f"/post/{pid}", alice)
    assert await posts_cache.get(client.app, pid) is None, "delete pending: MongoDB's copy is not filled in"
    await drain()
    # A reader that loaded MongoDB before the tombstone was stored:
    async def stale_load(_: str) -> dict:
        return old

    late = await get(client.app, Kind("post", "post:", lambda app, _: stale_load(pid)), pid)
    assert late is None and not r.exists(posts_cache.key(pid))
    assert db["posts"].find_one({"_id": ObjectId(pid)})["_deleted"] is True



async def test_one_instance_rebuilds_the_posts_and_the_others_answer_from_mongodb(client, instances, db, r, drain):
    one, two = await instances(2)
    (alice,) = await users(client, "alice")
    newest = await post(client, alice, post="the newest")
    await drain()
    template = db["posts"].find_one({"_id": ObjectId(newest["_id"])})
    older = [{**template, "_id": ObjectId(), "post": f"older {n}", "createdAt": template["createdAt"] - timedelta(
        seconds=n + 1)} for n in range(2 * posts_cache.MERGE_CHUNK)]  # persisted, never cached
    db["posts"].insert_many(older)
    want = [newest["_id"]] + [str(d["_id"]) for d in older[:9]]
    r.flushdb()
    r.set("rebuild:posts", "another instance", px=60_000)  # which is rebuilding the index

    async with aiohttp.ClientSession(headers=alice.h) as http:
        async def first_page(instance) -> dict:
            async with http.get(f"{instance.url}/api/v1/post/all/1") as response:
                assert response.status == 200
                return await response.json()

        for body in await asyncio.gather(first_page(one), first_page(two)):
            assert [p["_id"] for p in body["posts"]] == want and body["totalPosts"] == len(older) + 1
        assert not r.exists("complete:posts") and not r.hexists("stats:rebuilds", "posts"), "answered from MongoDB"

        r.delete("rebuild:posts")  # that instance is gone: the next reader takes the rebuild over
        for body in await asyncio.gather(first_page(one), first_page(two)):
            assert [p["_id"] for p in body["posts"]] == want
        await until(lambda: r.exists("complete:posts"), "the posts are listed again")
        assert r.hget("stats:rebuilds", "posts") == b"1", "one instance rebuilt them"
        assert r.zcard("posts") == len(older) + 1
        body = await first_page(two)
        assert [p["_id"] for p in body["posts"]] == want and body["totalPosts"] == len(older) + 1
