"""Privacy and blocks on every read and on every post event (real Socket.IO clients)."""
from __future__ import annotations

from bson import ObjectId

from tests.conftest import PNG, redis_state, settle
from tests.posts_helpers import KINDS, MP4, block, call, feed, feed_ids, follow, post, users

LISTS = ("all", "images", "videos")


async def posts_of_every_kind(client, author) -> dict[str, list[str]]:
    """A text, an image and a video post for each privacy, newest first per privacy."""
    made: dict[str, list[str]] = {}
    for privacy in ("Public", "Followers", "Private"):
        made[privacy] = [
            (await post(client, author, post=f"{privacy} text", privacy=privacy))["_id"],
            (await post(client, author, "/post/image/post", image=PNG, privacy=privacy))["_id"],
            (await post(client, author, "/post/video/post", video=MP4, privacy=privacy))["_id"],
        ][::-1]
    return made


async def visible(client, reader, author) -> dict[str, set[str]]:
    seen = {name: set(await feed_ids(client, reader, name)) for name in LISTS}
    profile = await call(client, "GET", f"/user/profile/posts/{author.name}/{author.id}/{author.uid}", reader)
    seen["profile"] = {p["_id"] for p in profile["posts"]}
    return seen


def expected(made: dict[str, list[str]], *privacies: str) -> dict[str, set[str]]:
    """made[privacy] is [video, image, text]."""
    ids = {pid for privacy in privacies for pid in made[privacy]}
    return {"all": ids, "images": {made[p][1] for p in privacies}, "videos": {made[p][0] for p in privacies},
            "profile": ids}


async def test_followers_and_private_posts_in_every_list(client, settings):
    alice, fred, sam = await users(client, "alice", "fredo", "samwi")
    await follow(client, fred, alice)
    made = await posts_of_every_kind(client, alice)
    for reader, privacies in ((sam, ("Public",)), (fred, ("Public", "Followers")),
                              (alice, ("Public", "Followers", "Private"))):
        want = expected(made, *privacies)
        assert await visible(client, reader, alice) == want, reader.name
        assert (await feed(client, reader))["totalPosts"] == len(want["all"])


async def test_a_follower_sees_followers_posts_as_soon_as_they_follow(client, settings):
    alice, fred = await users(client, "alice", "fredo")
    pid = (await post(client, alice, post="friends only", privacy="Followers"))["_id"]
    assert await feed_ids(client, fred) == []
    await follow(client, fred, alice)
    assert await feed_ids(client, fred) == [pid]


async def test_blocks_hide_posts_both_ways(client, settings):
    alice, bob, carol = await users(client, "alice", "bobby", "carol")
    a = (await post(client, alice, post="by alice"))["_id"]
    b = (await post(client, bob, post="by bob"))["_id"]
    c = (await post(client, carol, post="by carol"))["_id"]
    await block(client, alice, bob)
    assert await feed_ids(client, alice) == [c, a] and (await feed(client, alice))["totalPosts"] == 2
    assert await feed_ids(client, bob) == [c, b] and (await feed(client, bob))["totalPosts"] == 2
    assert set(await feed_ids(client, carol)) == {a, b, c}
    answer = await call(client, "GET", f"/user/profile/posts/{alice.name}/{alice.id}/{alice.uid}", bob, 404)
    assert answer["message"] == "User not found", "as /user/profile/:id answers across a block"
    for reader, pid in ((bob, a), (alice, b)):
        await call(client, "GET", f"/post/reactions/{pid}", reader, 404)
        await call(client, "GET", f"/post/comments/{pid}", reader, 404)
        answer = await call(client, "POST", "/post/reaction", reader, 403,
                            json={"userTo": alice.id, "postId": pid, "type": "like"})
        assert answer["message"] == "You cannot interact with this post"
        await call(client, "POST", "/post/comment", reader, 403, json={"userTo": alice.id, "postId": pid, "comment": "hi"})


async def test_a_block_after_an_interaction_stops_the_next_one(client, settings, r):
    """Once someone interacted with a post the API knows its author, and asks only whether the
    two are in a block (or the author suspended): a block made since must still stop them."""
    alice, bob = await users(client, "alice", "bobby")
    pid = (await post(client, alice, post="by alice"))["_id"]
    react = {"userTo": alice.id, "postId": pid, "type": "like"}
    await call(client, "POST", "/post/reaction", bob, json=react)
    await call(client, "POST", "/post/comment", bob, json={"userTo": alice.id, "postId": pid, "comment": "hi"})
    await block(client, alice, bob)
    before = redis_state(r)
    for path, body in (("/post/reaction", {**react, "type": "love"}),
                       ("/post/comment", {"userTo": alice.id, "postId": pid, "comment": "again"})):
        answer = await call(client, "POST", path, bob, 403, json=body)
        assert answer["message"] == "You cannot interact with this post"
    assert redis_state(r) == before


async def test_single_reads_of_an_unseen_post_are_404(client, settings):
    alice, fred, sam = await users(client, "alice", "fredo", "samwi")
    await follow(client, fred, alice)
    pid = (await post(client, alice, post="friends", privacy="Followers"))["_id"]
    await call(client, "POST", "/post/reaction", fred, json={"userTo": alice.id, "postId": pid, "type": "love"})
    comment = (await call(client, "POST", "/post/comment", fred,
                          json={"userTo": alice.id, "postId": pid, "comment": "nice"}))["comment"]
    paths = [f"/post/reactions/{pid}", f"/post/single/reaction/username/Fredo/{pid}", f"/post/comments/{pid}",
             f"/post/commentsnames/{pid}", f"/post/single/comment/{pid}/{comment['_id']}"]
    for path in paths:
        assert (await call(client, "GET", path, sam, 404))["message"] == "Post not found"
        await call(client, "GET", path, fred)
    await call(client, "POST", "/post/reaction", sam, 404, json={"userTo": alice.id, "postId": pid, "type": "wow"})
    await call(client, "POST", "/post/comment", sam, 404, json={"userTo": alice.id, "postId": pid, "comment": "hey"})
    assert (await call(client, "GET", "/post/reactions/username/Fredo", sam))["reactions"] == []
    assert len((await call(client, "GET", "/post/reactions/username/Fredo", alice))["reactions"]) == 1


async def test_post_events_reach_only_those_who_may_see_the_post(client, settings, instances, sockets):
    alice, fred, sam, bob = await users(client, "alice", "fredo", "samwi", "bobby")
    await follow(client, fred, alice)
    await block(client, alice, bob)
    (api,) = await instances(1)
    socket = {u.name: await sockets(api.url, token=u.token, user_id=u.id) for u in (alice, fred, sam, bob)}
    everyone = list(socket.values())

    async def check(event: str, match, should: set[str]) -> None:
        for name in should:
            await socket[name].wait_for(event, match)
        await settle(settings, *everyone)
        got = {name for name, s in socket.items() if any(match(d) for d in s.received(event))}
        assert got == should, (event, got, should)

    public = await post(client, alice, post="hello all", privacy="Public")
    await check("add post", lambda d: d["_id"] == public["_id"], {"Alice", "Fredo", "Samwi"})
    friends = await post(client, alice, post="hello friends", privacy="Followers")
    await check("add post", lambda d: d["_id"] == friends["_id"], {"Alice", "Fredo"})
    secret = await post(client, alice, post="diary", privacy="Private")
    await check("add post", lambda d: d["_id"] == secret["_id"], {"Alice"})

    await call(client, "PUT", f"/post/{public['_id']}", alice, json={"privacy": "Followers"})
    await check("update post", lambda d: d["_id"] == public["_id"] and d["privacy"] == "Followers", {"Alice", "Fredo"})
    await check("delete post", lambda d: d == public["_id"], {"Samwi"})

    await call(client, "POST", "/post/reaction", fred, json={"userTo": alice.id, "postId": friends["_id"], "type": "wow"})
    await check("update like", lambda d: d["postId"] == friends["_id"] and d["postReactions"]["wow"] == 1,
                {"Alice", "Fredo"})
    await call(client, "POST", "/post/comment", fred, json={"userTo": alice.id, "postId": friends["_id"], "comment": "hi"})
    await check("update comment", lambda d: d["postId"] == friends["_id"] and d["commentsCount"] == 1, {"Alice", "Fredo"})

    await call(client, "DELETE", f"/post/{friends['_id']}", alice)
    await check("delete post", lambda d: d == friends["_id"], {"Alice", "Fredo"})
    await call(client, "DELETE", f"/post/{secret['_id']}", alice)
    await check("delete post", lambda d: d == secret["_id"], {"Alice"})


async def test_public_events_skip_blocked_users_on_every_instance(client, settings, instances, sockets):
    alice, bob, sam = await users(client, "alice", "bobby", "samwi")
    await block(client, bob, alice)
    one, two = await instances(2)
    watchers = [await sockets(one.url, token=bob.token, user_id=bob.id),
                await sockets(two.url, token=bob.token, user_id=bob.id),
                await sockets(two.url, token=sam.token, user_id=sam.id)]
    created = await post(client, alice, post="public", privacy="Public")
    await watchers[2].wait_for("add post", lambda d: d["_id"] == created["_id"])
    await settle(settings, *watchers)
    assert watchers[0].received("add post") == [] and watchers[1].received("add post") == []


async def test_reaction_kinds_are_the_six(client):
    (alice,) = await users(client, "alice")
    pid = (await post(client, alice, post="x"))["_id"]
    for kind in KINDS:
        await call(client, "POST", "/post/reaction", alice, json={"userTo": alice.id, "postId": pid, "type": kind})
    assert (await feed(client, alice))["posts"][0]["reactions"] == {**dict.fromkeys(KINDS, 0), "angry": 1}
    await call(client, "POST", "/post/reaction", alice, 400, json={"userTo": alice.id, "postId": pid, "type": "meh"})
    await call(client, "GET", f"/post/reactions/{ObjectId()}", alice, 404)


async def test_a_limited_authors_public_post_and_reactions_reach_only_followers_live(client, settings, sockets):
    from tests.test_moderation import act, staff_and_people

    modo, bobby, carol, dave = await staff_and_people(client, settings, "bobby", "carol", "dave")
    await follow(client, dave, bobby)
    await act(client, modo, bobby, "limit")
    url = f"http://127.0.0.1:{client.server.port}"
    carol_sock = await sockets(url, token=carol.token, user_id=carol.id)
    dave_sock = await sockets(url, token=dave.token, user_id=dave.id)
    pid = (await post(client, bobby, post="followers only now"))["_id"]
    await dave_sock.wait_for("add post", lambda p: p["_id"] == pid)
    await call(client, "POST", "/post/reaction", dave, json={
        "userTo": bobby.id, "postId": pid, "type": "love", "profilePicture": "", "previousReaction": "",
        "postReactions": {}})
    await dave_sock.wait_for("update like", lambda p: p["postId"] == pid)
    marker = (await post(client, dave, post="for everyone"))["_id"]
    await carol_sock.wait_for("add post", lambda p: p["_id"] == marker)  # events arrive in order
    assert [p["_id"] for p in carol_sock.received("add post")] == [marker]
    assert carol_sock.received("update like") == []
