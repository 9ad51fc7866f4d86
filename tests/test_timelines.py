"""Home timelines: fan-out, the graph's effects, stable cursor pages, the MongoDB fallbacks below the
cap and for idle users; the public and all timelines, a profile's posts; trends."""
from __future__ import annotations

import asyncio
import time

import orjson
import pytest
from bson import ObjectId
from rq import Queue, SimpleWorker

from mysocial.app import create_app
from mysocial.sessions.cache import ACTIVE
from mysocial.timelines import fanout, trends
from tests.conftest import redis_state
from tests.posts_helpers import API, ERROR_KEYS, call, follow, post, users
from workers import context, runner

DAY_MS = 86_400_000


async def home(client, user, status: int = 200, **query) -> dict:
    return await call(client, "GET", "/timelines/home", user, status, params=query)


async def home_ids(client, user, **query) -> list[str]:
    return [p["_id"] for p in (await home(client, user, **query))["posts"]]


async def built(client, user, drain) -> None:
    """The user's first home read asks for the feed to be built; the worker builds it."""
    await home(client, user)
    await drain()
    assert context.get().redis.exists(f"complete:home:{user.id}")


async def a_reader_of(client, drain, posts: int) -> tuple:
    """alice, whose feed is built, following bobby; then bobby's `posts` new posts (ids)."""
    alice, bobby = await users(client, "alice", "bobby")
    await follow(client, alice, bobby)
    await built(client, alice, drain)
    return alice, bobby, [(await post(client, bobby, post=f"p{i}"))["_id"] for i in range(posts)]


def feed(r, user) -> list[str]:
    return [m.decode() for m in r.zrevrange(f"home:{user.id}", 0, -1)]


async def test_home_has_mine_and_whom_i_follow_newest_first_in_the_feed_shape(client, drain, r):
    alice, bobby, carol = await users(client, "alice", "bobby", "carol")
    await follow(client, alice, bobby)
    mine = await post(client, alice, post="mine")
    bobs = await post(client, bobby, post="bob's")
    await post(client, carol, post="carol's, not followed")
    await drain()
    answer = await home(client, alice)  # not built yet: from MongoDB, and a build job asked for
    assert answer["message"] == "Home timeline"
    assert [p["_id"] for p in answer["posts"]] == [bobs["_id"], mine["_id"]]
    assert Queue("feed", connection=r).count == 1
    await drain()
    assert feed(r, alice) == [bobs["_id"], mine["_id"]]
    from_redis = await home(client, alice)
    everything = {p["_id"]: p for p in (await call(client, "GET", "/post/all/1", alice))["posts"]}
    assert from_redis["posts"] == [everything[bobs["_id"]], everything[mine["_id"]]]


async def test_fan_out_reaches_built_feeds_and_the_socket(client, drain, r, sockets):
    alice, bobby, carol = await users(client, "alice", "bobby", "carol")
    await follow(client, alice, bobby)
    await built(client, alice, drain)
    sock = await sockets(f"http://127.0.0.1:{client.server.port}", token=alice.token, user_id=alice.id)
    new = await post(client, bobby, post="hello followers", privacy="Followers")
    assert (await sock.wait_for("add post", lambda p: p["_id"] == new["_id"]))["post"] == "hello followers"
    await drain()
    assert feed(r, alice) == [new["_id"]]
    assert await home_ids(client, alice) == [new["_id"]]
    assert not r.exists(f"home:{carol.id}"), "no feed for a user who never read one"


async def test_follow_merges_unfollow_and_block_remove(client, drain, r):
    alice, bobby, carol = await users(client, "alice", "bobby", "carol")
    bob_posts = [(await post(client, bobby, post=f"b{i}"))["_id"] for i in range(3)]
    carol_post = (await post(client, carol, post="c"))["_id"]
    await built(client, alice, drain)
    assert await home_ids(client, alice) == []
    await follow(client, alice, bobby)
    await follow(client, alice, carol)
    await drain()
    assert feed(r, alice) == [carol_post, *reversed(bob_posts)]
    await call(client, "PUT", f"/user/unfollow/{bobby.id}/{alice.id}", alice)
    assert await home_ids(client, alice) == [carol_post], "the read filters at once"
    await call(client, "PUT", f"/user/block/{alice.id}", carol)
    assert await home_ids(client, alice) == []
    await drain()
    assert feed(r, alice) == [], "the unfollow's and the block's jobs removed the entries"


async def test_privacy_takedown_and_delete_never_show(client, drain, r):
    alice, bobby = await users(client, "alice", "bobby")
    await follow(client, alice, bobby)
    await built(client, alice, drain)
    first = await post(client, bobby, post="one")
    second = await post(client, bobby, post="two", privacy="Followers")
    await drain()
    assert await home_ids(client, alice) == [second["_id"], first["_id"]]
    await call(client, "PUT", f"/post/{first['_id']}", bobby, json={"post": "one", "privacy": "Private"})
    assert await home_ids(client, alice) == [second["_id"]]
    assert await home_ids(client, bobby) == [second["_id"], first["_id"]], "the author still sees it"
    await call(client, "DELETE", f"/post/{second['_id']}", bobby)
    assert await home_ids(client, alice) == []
    await drain()
    assert second["_id"] not in feed(r, alice), "the delete's fan-out removed it"


async def test_pages_are_stable_while_posts_arrive(client, drain, r):
    alice, bobby = await users(client, "alice", "bobby")
    await follow(client, alice, bobby)
    before = [(await post(client, bobby, post=f"p{i}"))["_id"] for i in range(23)]
    await drain()
    await built(client, alice, drain)
    seen, cursor, link = [], None, None
    while True:
        query = {"limit": 5, **({"max_id": cursor} if cursor else {})}
        response, *_ = await asyncio.gather(client.get(API + "/timelines/home", params=query, headers=alice.h),
                                            *(post(client, bobby, post="meanwhile") for _ in range(2)))
        page = await response.json()
        ids = [p["_id"] for p in page["posts"]]
        if not ids:
            break
        link = link or response.headers["Link"]
        seen += ids
        cursor = ids[-1]
        await drain()
    assert seen == list(reversed(before)), "no duplicate and no gap"
    assert 'rel="next"' in link and 'rel="prev"' in link and "limit=5" in link
    newer = await home_ids(client, alice, min_id=before[-1], limit=40)
    assert len(newer) == 2 * 5 and before[-1] not in newer
    assert await home_ids(client, alice, since_id=before[-1], limit=3) == newer[:3]
    assert await home_ids(client, alice, min_id=before[-1], limit=3) == newer[-3:]


async def test_below_the_cap_pages_come_from_mongodb(aiohttp_client, settings, drain, r):
    capped = settings.with_(feed_cap=5)
    context.init(capped)
    client = await aiohttp_client(create_app(capped))
    alice, bobby = await users(client, "alice", "bobby")
    await follow(client, alice, bobby)
    made = [(await post(client, bobby, post=f"p{i}"))["_id"] for i in range(9)]
    await asyncio.to_thread(runner.drain, capped)
    await home(client, alice)
    await asyncio.to_thread(runner.drain, capped)
    mine = (await post(client, alice, post="mine"))["_id"]
    await asyncio.to_thread(runner.drain, capped)
    assert r.zcard(f"home:{alice.id}") == 5 and r.get(f"home:floor:{alice.id}")
    newest_first = [mine, *reversed(made)]
    seen, cursor = [], None
    while ids := await home_ids(client, alice, limit=3, **({"max_id": cursor} if cursor else {})):
        seen += ids
        cursor = ids[-1]
    assert seen == newest_first, "the feed's five, then MongoDB below its floor: no wall, no duplicate"
    assert await home_ids(client, alice, min_id=made[0], limit=3) == newest_first[-4:-1]
    assert await home_ids(client, alice, since_id=made[0], limit=40) == newest_first[:-1]


async def test_idle_users_feeds_are_dropped_and_rebuilt_when_they_return(client, drain, r, db):
    alice, bobby = await users(client, "alice", "bobby")
    await follow(client, alice, bobby)
    await built(client, alice, drain)
    old = (await post(client, bobby, post="while active"))["_id"]
    await drain()
    r.zadd(ACTIVE, {alice.id: time.time() * 1000 - 8 * DAY_MS})  # alice last came eight days ago
    new = (await post(client, bobby, post="while away"))["_id"]
    await drain()
    assert not r.exists(f"home:{alice.id}") and not r.exists(f"complete:home:{alice.id}"), \
        "the fan-out dropped the idle feed"
    assert await home_ids(client, alice) == [new, old], "a full page at once, from MongoDB"
    assert r.zscore(ACTIVE, alice.id) > time.time() * 1000 - 60_000
    await drain()
    assert feed(r, alice) == [new, old]


async def test_pages_from_mongodb_show_only_what_redis_says_now(client, drain, r):
    alice, bobby = await users(client, "alice", "bobby")
    await follow(client, alice, bobby)
    kept = (await post(client, bobby, post="kept"))["_id"]
    hidden = (await post(client, bobby, post="soon private"))["_id"]
    await drain()
    await call(client, "PUT", f"/post/{hidden}", bobby, json={"post": "private now", "privacy": "Private"})
    assert await home_ids(client, alice) == [kept], "MongoDB still says Public: the page says what Redis does"
    assert [p["_id"] for p in (await call(client, "GET", "/timelines/public", alice))["posts"]] == [kept]


async def test_scheduled_drop_of_idle_and_suspended_users_feeds(client, settings, drain, r):
    from tests.test_moderation import act, staff_and_people

    modo, alice, bobby, carol = await staff_and_people(client, settings, "alice", "bobby", "carol")
    for user in (alice, bobby, carol):
        await built(client, user, drain)
    r.zadd(ACTIVE, {alice.id: time.time() * 1000 - 8 * DAY_MS})
    await act(client, modo, carol, "suspend")
    assert context.run(fanout.drop_idle(context.app())) == 2
    assert not r.exists(f"complete:home:{alice.id}", f"complete:home:{carol.id}", f"home:{carol.id}")
    assert r.exists(f"complete:home:{bobby.id}")
    assert r.zscore(ACTIVE, alice.id) is None
    assert context.run(fanout.drop_idle(context.app())) == 0


async def test_an_author_with_2500_followers_makes_three_fan_out_jobs(client, settings, drain, r):
    [author, *readers] = await users(client, "author", "reader1", "reader2")
    for reader in readers:
        await follow(client, reader, author)
        await built(client, reader, drain)
    # 2,498 more followers, written as the graph writes them (their follow times after the readers')
    now = time.time() * 1000
    r.zadd(f"followers:{author.id}", {str(ObjectId()): now + i for i in range(2498)})
    assert r.zcard(f"followers:{author.id}") == 2500
    new = (await post(client, author, post="to many"))["_id"]
    feed_queue = Queue("feed", connection=r)
    assert feed_queue.count == 1, "one job from the API, whatever the follower count"
    worker = SimpleWorker([feed_queue], connection=context.get().redis)
    worker.work(burst=True, max_jobs=1)
    assert feed_queue.count == 2, "the first batch's job enqueued the other two"
    worker.work(burst=True, max_jobs=2)
    assert feed_queue.count == 0, "and those two enqueued nothing more: three jobs in all"
    assert all(feed(r, reader) == [new] for reader in readers)


async def test_a_burst_of_posts_makes_one_fan_out_job_that_delivers_them_all_in_order(client, drain, r):
    alice, bobby, made = await a_reader_of(client, drain, 30)
    deleted = made.pop(3)
    await call(client, "DELETE", f"/post/{deleted}", bobby)
    feed_queue = Queue("feed", connection=r)
    assert feed_queue.count == 1, "31 fan-outs, one job waiting"
    assert [orjson.loads(e)[3] for e in r.lrange("feed:fanout", 0, -1)] == ["add"] * 30 + ["remove"]
    SimpleWorker([feed_queue], connection=context.get().redis).work(burst=True, max_jobs=1)
    assert feed(r, alice) == list(reversed(made)), "the delete's entry came after its create's"
    assert not r.exists("feed:fanout", "feed:fanout:taken", "feed:fanout:waiting") and feed_queue.count == 0


async def test_a_post_whose_fan_out_fails_becomes_a_job_of_its_own_and_the_others_go_on(
        client, drain, r, monkeypatch):
    alice, bobby, made = await a_reader_of(client, drain, 3)
    real, calls = fanout.fan_out, []

    async def failing(app, post_id, *args):
        calls.append(post_id)
        if post_id == made[1]:
            raise RuntimeError("this post's fan-out fails")
        return await real(app, post_id, *args)

    monkeypatch.setattr(fanout, "fan_out", failing)
    assert context.run(fanout.drain(context.app())) == 3
    assert sorted(calls) == sorted(made)
    assert feed(r, alice) == [made[2], made[0]] and not r.exists("feed:fanout", "feed:fanout:taken")
    [job] = [j for j in Queue("feed", connection=r).get_jobs() if j.func_name != fanout.cache.FANOUT_DRAIN]
    assert (job.func_name, job.args) == ("workers.feeds.fanout", (made[1], bobby.id, job.args[2], "add"))
    monkeypatch.setattr(fanout, "fan_out", real)
    SimpleWorker([Queue("feed", connection=r)], connection=context.get().redis).work(burst=True)
    assert feed(r, alice) == list(reversed(made))


async def test_an_interrupted_fan_out_gives_its_take_back_and_one_that_died_is_taken_again(
        client, drain, r, monkeypatch):
    alice, bobby, first = await a_reader_of(client, drain, 3)
    entries = r.lrange("feed:fanout", 0, -1)

    class Stop(BaseException):
        pass

    async def stopped(app, post_id, *args):
        raise Stop

    monkeypatch.setattr(fanout, "fan_out", stopped)
    with pytest.raises(Stop):
        context.run(fanout.drain(context.app()))
    assert r.lrange("feed:fanout", 0, -1) == entries and not r.exists("feed:fanout:taken"), "given back, in order"
    monkeypatch.undo()
    # a job that died holding a take: the next take, STALE_S later, gives it back first
    fcall = lambda named: r.fcall("queue_take", 2, "feed:fanout", "feed:fanout:taken", orjson.dumps(named))  # noqa: E731
    assert fcall({"id": "dead", "n": 10, "now": time.time() - fanout.STALE_S - 1, "stale": 1e9}) == entries
    later = (await post(client, bobby, post="later"))["_id"]
    assert context.run(fanout.drain(context.app())) == 4
    assert feed(r, alice) == [later, *reversed(first)] and not r.exists("feed:fanout", "feed:fanout:taken")


async def test_a_drain_job_hands_what_is_left_after_its_takes_to_a_new_one(client, drain, r, monkeypatch):
    alice, bobby, made = await a_reader_of(client, drain, 12)
    monkeypatch.setattr(fanout, "TAKE", 5)
    monkeypatch.setattr(fanout, "MAX_TAKES", 2)
    feed_queue = Queue("feed", connection=r)
    feed_queue.empty()
    assert context.run(fanout.drain(context.app())) == 10
    assert r.llen("feed:fanout") == 2 and feed_queue.count == 1, "the rest has a job"
    assert context.run(fanout.drain(context.app())) == 2
    assert feed(r, alice) == list(reversed(made))


async def test_public_and_all_timelines_and_profile_posts(client, drain, r):
    alice, bobby, carol = await users(client, "alice", "bobby", "carol")
    await follow(client, alice, bobby)
    public = (await post(client, bobby, post="public"))["_id"]
    followers = (await post(client, bobby, post="followers", privacy="Followers"))["_id"]
    private = (await post(client, carol, post="private", privacy="Private"))["_id"]
    ids = lambda answer: [p["_id"] for p in answer["posts"]]  # noqa: E731
    assert ids(await call(client, "GET", "/timelines/public", alice)) == [public]
    assert ids(await call(client, "GET", "/timelines/all", alice)) == [followers, public]
    assert ids(await call(client, "GET", "/timelines/all", carol)) == [private, public]
    assert ids(await call(client, "GET", f"/accounts/{bobby.id}/posts", alice, params={"limit": 1})) == [followers]
    assert ids(await call(client, "GET", f"/accounts/{bobby.id}/posts", carol)) == [public]
    await call(client, "PUT", f"/user/block/{carol.id}", bobby)
    assert ids(await call(client, "GET", "/timelines/public", carol)) == []
    await call(client, "GET", f"/accounts/{bobby.id}/posts", carol, 404)


async def test_timelines_answer_from_mongodb_while_redis_rebuilds(client, drain, r):
    alice, bobby = await users(client, "alice", "bobby")
    await follow(client, alice, bobby)
    made = [(await post(client, bobby, post=f"p{i}"))["_id"] for i in range(3)]
    await drain()
    r.flushall()
    r.set("rebuild:posts", "another instance", px=60_000)  # the posts lists stay incomplete meanwhile
    assert await home_ids(client, alice, limit=2) == made[:0:-1]
    assert [p["_id"] for p in (await call(client, "GET", "/timelines/public", alice,
                                          params={"max_id": made[1]}))["posts"]] == [made[0]]
    assert (await call(client, "GET", "/trends/posts", alice))["posts"] == []


async def test_hostile_cursors_get_400_and_change_nothing(client, r):
    [alice] = await users(client, "alice")
    state = redis_state(r)
    for query in ({"limit": "0"}, {"limit": ""}, [("limit", "2"), ("limit", "3")], {"limit": "-1"}, {"limit": "x"},
                  {"limit": "١"}, {"max_id": "zz"}, {"max_id": ""},
                  {"since_id": "1" * 25}, {"min_id": "$ne"}):
        for path in ("/timelines/home", "/timelines/public", "/timelines/all", f"/accounts/{alice.id}/posts",
                     "/trends/posts"):
            await call(client, "GET", path, alice, 400, params=query)
    await call(client, "GET", "/accounts/not-an-id/posts", alice, 400)
    await call(client, "GET", f"/accounts/{ObjectId()}/posts", alice, 404)
    assert redis_state(r) == state
    client.session.cookie_jar.clear()
    for path in ("/timelines/home", "/timelines/public", "/trends/posts"):
        response = await client.get(API + path)
        assert response.status == 401 and set(await response.json()) == ERROR_KEYS


def test_trend_ranking_decays_and_counts_each_user_once():
    now = 10 * 3600 * 1000.0
    hour = 3600 * 1000.0
    entries = [(now - 4 * hour, "old", f"u{i}") for i in range(8)]  # 8 users, four hours ago: 8 * 0.25
    entries += [(now - 60_000, "new", f"u{i}") for i in range(5)]  # 5 users just now: about 5
    entries += [(now - 60_000, "spam", "u1") for _ in range(20)]  # one user, many times
    entries += [(now - 25 * hour, "stale", f"u{i}") for i in range(9)]  # outside the window
    ranked = trends.rank(entries, now, 2 * 3600, 5)
    assert [post for post, _ in ranked] == ["new", "old"]
    assert abs(ranked[1][1] - 2.0) < 1e-9


async def test_trends_rank_what_people_interact_with_and_only_what_the_reader_may_see(client, drain, r):
    author, *fans = await users(client, "author", "fan1", "fan2", "fan3", "fan4", "fan5", "fan6")
    hot = (await post(client, author, post="hot"))["_id"]
    warm = (await post(client, author, post="warm"))["_id"]
    hidden = (await post(client, author, post="soon for followers only"))["_id"]
    for fan in fans:
        await call(client, "POST", "/post/reaction", fan, json={
            "userTo": author.id, "postId": hot, "type": "love", "profilePicture": "", "previousReaction": "",
            "postReactions": {}})
        await call(client, "POST", "/post/comment", fan, json={"userTo": author.id, "postId": hidden, "comment": "hi",
                                                                "profilePicture": ""})
    for fan in fans[:5]:
        await call(client, "POST", "/post/comment", fan, json={"userTo": author.id, "postId": warm, "comment": "ok",
                                                                "profilePicture": ""})
    await call(client, "PUT", f"/post/{hidden}", author, json={"post": "for followers", "privacy": "Followers"})
    assert context.run(trends.recompute(context.app())) == 3
    answer = await call(client, "GET", "/trends/posts", fans[0])
    assert [p["_id"] for p in answer["posts"]] == [hot, warm]
    await call(client, "PUT", f"/user/block/{fans[1].id}", author)
    assert (await call(client, "GET", "/trends/posts", fans[1]))["posts"] == []
    assert [p["_id"] for p in (await call(client, "GET", "/trends/posts", fans[0], params={"limit": 1}))["posts"]] == [hot]
