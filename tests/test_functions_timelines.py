"""The timelines functions of the library (mysocial/lua/timelines.lua) against a real redis-server
(test_functions.py checks that every function has a test here or there)."""
from __future__ import annotations

import pytest

from tests.test_functions import fcall, loaded, refusal  # noqa: F401 (the fixture)

pytestmark = pytest.mark.usefixtures("loaded")

FEED = ["home:u", "home:floor:u", "complete:home:u", "rebuild:home:u"]
NOW = 10_000


def feed(r) -> list[tuple[str, float]]:
    return [(m.decode(), s) for m, s in r.zrevrange("home:u", 0, -1, withscores=True)]


def test_home_add(r):
    r.zadd("active", {"u": NOW, "v": 1})
    v_feed = ["home:v", "home:floor:v", "complete:home:v", "rebuild:home:v"]
    r.set("complete:home:v", 1)
    r.zadd("home:v", {"old": 1})
    named = {"entries": [["3.5", "p3"]], "cap": 3, "before": NOW - 100}
    assert fcall(r, "home_add", ["active", *FEED, *v_feed], named) == 0, "u's feed is not built, v is idle"
    assert not r.exists("home:u") and not r.exists("home:v", "complete:home:v"), "the idle feed was dropped"
    r.set("rebuild:home:u", "token")  # being built: takes entries
    for score in (1, 2, 3.5, 4):
        fcall(r, "home_add", ["active", *FEED], {**named, "entries": [[str(score), f"p{score}"]]})
    assert feed(r) == [("p4", 4), ("p3.5", 3.5), ("p2", 2)] and r.get("home:floor:u") == b"1 p1"
    assert fcall(r, "home_add", ["active", *FEED], {**named, "entries": [["1", "p1"], ["0.5", "late"]]}) == 0, \
        "never at or below the floor"
    fcall(r, "home_add", ["active", *FEED], {**named, "entries": [["1.5", "later"]]})
    assert feed(r)[-1] == ("p2", 2) and r.get("home:floor:u") == b"1.5 later", "above it, but trimmed at once"
    assert fcall(r, "home_add", ["active", *FEED], {**named, "entries": [["4", "p4"]]}) == 0, "idempotent"


def test_home_merge(r):
    keys = [*FEED, "complete:posts", "posts:user:a", "posts:user:b"]
    assert refusal(r, "home_merge", keys, {"cap": 3}) == "incomplete posts"
    r.set("complete:posts", 1)
    r.zadd("posts:user:a", {"a1": 1, "a2": 5})
    r.zadd("posts:user:b", {"b1": 2, "b2": 3, "b3": 4})
    assert fcall(r, "home_merge", keys, {"cap": 3}) is None, "not built: nothing to merge into"
    r.set("complete:home:u", 1)
    assert fcall(r, "home_merge", keys, {"cap": 3}) == 5
    assert feed(r) == [("a2", 5), ("b3", 4), ("b2", 3)] and r.get("home:floor:u") == b"2 b1"
    r.zadd("posts:user:a", {"a0": 1.5})
    assert fcall(r, "home_merge", keys, {"cap": 3}) == 0, "nothing at or below the floor, nothing twice"


def test_home_merge__an_author_with_more_than_the_cap_raises_the_floor(r):
    r.set("complete:posts", 1)
    r.set("complete:home:u", 1)
    r.zadd("posts:user:a", {f"a{n}": n for n in range(10, 20)})
    r.zadd("home:u", {"b1": 5})
    keys = [*FEED, "complete:posts", "posts:user:a"]
    assert fcall(r, "home_merge", keys, {"cap": 3}) == 3
    assert feed(r) == [("a19", 19), ("a18", 18), ("a17", 17)] and r.get("home:floor:u") == b"16 a16", \
        "the newest post left out is the floor: nothing above it is missing"


def test_home_unmerge(r):
    r.zadd("home:u", {"a1": 2, "b1": 3, "a2": 4})
    r.zadd("posts:user:a", {"a0": 1, "a1": 2, "a2": 4})
    keys = ["home:u", "posts:user:a", "following:u"]
    r.zadd("following:u", {"a": 1})
    assert fcall(r, "home_unmerge", keys, {"author": "a"}) == 0, "followed again by now: kept"
    r.zrem("following:u", "a")
    assert fcall(r, "home_unmerge", keys, {"author": "a"}) == 2
    assert feed(r) == [("b1", 3)]
    assert fcall(r, "home_unmerge", ["home:empty", "posts:user:a", "following:u"], {"author": "a"}) == 0


def test_home_remove(r):
    r.zadd("home:u", {"p": 1, "q": 2})
    r.zadd("home:v", {"p": 1})
    assert fcall(r, "home_remove", ["home:u", "home:v", "home:w"], {"id": "p"}) == 2
    assert feed(r) == [("q", 2)] and not r.exists("home:v")


def test_home_drop(r):
    r.zadd("active", {"u": 50})
    r.zadd("home:u", {"p": 1})
    r.set("complete:home:u", 1)
    keys = ["active", "home:u", "home:floor:u", "complete:home:u"]
    assert fcall(r, "home_drop", keys, {"user": "u", "before": 40}) is None, "active since"
    assert fcall(r, "home_drop", keys, {"user": "u", "before": 60}) == 1
    assert not r.exists("home:u", "complete:home:u") and r.zscore("active", "u") is None


READER = ["blocked:r", "blockedby:r", "following:r", "accounts:suspended", "accounts:limited", "complete:blocks",
          "complete:follows:r", "complete:accounts:suspended", "complete:accounts:limited"]


def cursor(r, mode: str = "all", lst: str = "list", **named):
    keys = [lst, "posts:audience", "posts", "complete:list", "home:floor:r", *READER]
    ids, floor, cut = fcall(r, "posts_cursor", keys, {"reader": "r", "mode": mode, "limit": 3, **named})
    assert cut is None, "a short list is looked at whole"
    return [i.decode() for i in ids], floor


@pytest.mark.parametrize("crowd", [0, 100], ids=["small sets, read whole", "large sets, asked per author"])
def test_posts_cursor(r, crowd):
    if crowd:
        r.zadd("accounts:suspended", {f"s{n}": 1 for n in range(crowd)})
        r.zadd("accounts:limited", {f"l{n}": 1 for n in range(crowd)})
    keys = ["list", "posts:audience", "posts", "complete:list", "home:floor:r", *READER]
    assert refusal(r, "posts_cursor", keys, {"reader": "r", "mode": "all", "limit": 3}) == "incomplete list"
    for marker in ("complete:list", *READER[5:]):
        r.set(marker, 1)
    audience = {"p1": "a:Public", "p2": "f:Followers", "p3": "a:Private", "p4": "r:Private", "p5": "x:Public",
                "p6": "l:Public", "p7": "f:Public", "p8": "a:Removed"}
    r.hset("posts:audience", mapping=audience)
    r.zadd("list", {p: i for i, p in enumerate(audience, 1)})
    r.zadd("posts", {p: i for i, p in enumerate(audience, 1)})
    r.zadd("following:r", {"f": 1, "l": 1})
    r.sadd("blocked:r", "x")
    r.zadd("accounts:limited", {"l": 1})
    assert cursor(r) == (["p7", "p6", "p4"], None)
    assert cursor(r, max="p4") == (["p2", "p1"], None)
    assert cursor(r, since="p2") == (["p7", "p6", "p4"], None), "the newest three newer than it"
    assert cursor(r, since="p1", max="p7") == (["p6", "p4", "p2"], None)
    assert cursor(r, min="p1") == (["p6", "p4", "p2"], None), "the three just after it"
    assert cursor(r, mode="public") == (["p7", "p1"], None), "Public, and not of a limited author"
    assert cursor(r, mode="home") == (["p7", "p6", "p4"], None)
    r.zrem("list", "p4")  # a bound no longer listed stands at its score in `posts`
    assert cursor(r, max="p4") == (["p2", "p1"], None)
    r.zrem("posts", "p4")
    assert cursor(r, max="p4", max_at=3.5) == (["p2", "p1"], None)
    r.set("home:floor:r", "0.5 p0")
    assert cursor(r, mode="home", max="p2")[1] == b"0.5 p0", "a home feed's floor comes back"
    assert cursor(r, mode="all", max="p2")[1] is None
