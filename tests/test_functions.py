"""Each function of the Redis Functions library (mysocial/lua) against a real redis-server:
what it changes, what it answers, and when it refuses."""
from __future__ import annotations

import json

import orjson
import pytest
import redis

from mysocial.core import functions

pytestmark = pytest.mark.usefixtures("loaded")


@pytest.fixture
def loaded(r: redis.Redis) -> None:
    r.function_load(functions.source(), replace=True)


def fcall(r: redis.Redis, name: str, keys: list[str], named: dict | None = None, *fields):
    return r.fcall(name, len(keys), *keys, orjson.dumps(named or {}), *fields)


def refusal(r: redis.Redis, name: str, keys: list[str], named: dict | None = None, *fields) -> str:
    with pytest.raises(redis.ResponseError) as raised:
        fcall(r, name, keys, named, *fields)
    message = str(raised.value)
    assert message.startswith("REFUSED "), message
    return message.removeprefix("REFUSED ")


def j(value) -> str:
    return json.dumps(value)


def test_every_function_in_the_library_is_covered_here(r):
    [library] = r.function_list(library="mysocial")
    listed = dict(zip(library[::2], library[1::2]))  # RESP2: flat field/value lists
    described = [dict(zip(f[::2], f[1::2])) for f in listed[b"functions"]]
    names = {f[b"name"].decode() for f in described}
    assert len(names) > 30
    assert {f[b"name"] for f in described if b"no-writes" in f[b"flags"]} == \
        {b"post_page", b"cursor_page", b"posts_cursor"}, "read-only: may run on a replica"
    from tests import test_functions_timelines

    tests = [*globals(), *vars(test_functions_timelines)]
    tested = {name.removeprefix("test_").split("__")[0] for name in tests if name.startswith("test_")}
    assert names <= tested, f"functions without a test: {sorted(names - tested)}"


# --- the ledger ----------------------------------------------------------------

LEDGER = ["pending", "pending:since", "pending:clock", "pending:deleted"]


def test_ledger_mark(r):
    r.set("post:1", "x", ex=100)
    first = fcall(r, "ledger_mark", [*LEDGER, "post:1"], {"changes": [["post:1", False, 5], ["user:9", False, 0]]})
    r.set("pending:clock", first + 10**9)  # a clock ahead of the server's (another instance's, a restart)
    second = fcall(r, "ledger_mark", LEDGER, {"changes": [["post:1", True, 0]]})
    assert second == first + 10**9 + 1, "versions only grow"
    assert r.hgetall("pending") == {b"post:1": str(second).encode(), b"user:9": str(first).encode()}
    assert r.zscore("pending:since", "post:1") == first // 1000, "since: when it first became pending"
    assert r.smembers("pending:deleted") == {b"post:1"}
    assert r.ttl("post:1") == -1, "a pending entry never expires"
    fcall(r, "ledger_mark", [*LEDGER, "session:2"], {"changes": [["session:2", True, 0]]})
    fcall(r, "ledger_mark", [*LEDGER, "session:2"], {"changes": [["session:2", False, 5]]})
    assert r.smembers("pending:deleted") == {b"post:1", b"session:2"}, \
        "a write refused because the document was deleted first does not cancel the delete"
    fcall(r, "ledger_mark", [*LEDGER, "post:1"], {"changes": [["post:1", False, 5]]})
    assert r.smembers("pending:deleted") == {b"session:2"}, "written again: no longer a delete"


def test_ledger_clear(r):
    version = fcall(r, "ledger_mark", LEDGER, {"changes": [["post:1", True, 0]]})
    r.set("post:1", "x")
    stale = {"member": "post:1", "version": str(version - 1), "ttl": 60}
    assert fcall(r, "ledger_clear", ["pending", "pending:since", "pending:deleted", "post:1"], stale) is None
    assert r.hexists("pending", "post:1") and r.ttl("post:1") == -1, "a newer write is left pending"
    current = {**stale, "version": str(version)}
    assert fcall(r, "ledger_clear", ["pending", "pending:since", "pending:deleted", "post:1"], current) == 1
    assert not r.exists("pending", "pending:since", "pending:deleted")
    assert 0 < r.ttl("post:1") <= 60


# --- documents -----------------------------------------------------------------

DOC = ["post:1", "pending:deleted", "gone:post"]


def test_doc_fill(r):
    named = {"member": "post:1", "id": "1", "ttl": 60}
    assert fcall(r, "doc_fill", DOC, named, "post", j("from mongo")) == b"filled"
    assert r.hgetall("post:1") == {b"post": b'"from mongo"'} and 0 < r.ttl("post:1") <= 60
    r.hset("post:1", "post", j("pending write"))
    assert fcall(r, "doc_fill", DOC, named, "post", j("stale")) == b"cached"
    assert r.hget("post:1", "post") == b'"pending write"'
    r.delete("post:1")
    r.sadd("pending:deleted", "post:1")
    assert fcall(r, "doc_fill", DOC, named, "post", j("deleted")) == b"gone"
    r.delete("pending:deleted")
    r.zadd("gone:post", {"1": 1})
    assert fcall(r, "doc_fill", DOC, named, "post", j("deleted")) == b"gone"
    assert not r.exists("post:1")


def test_doc_patch(r):
    assert refusal(r, "doc_patch", ["post:1"], None, "post", j("x")) == "missing post:1"
    assert not r.exists("post:1"), "no partial hash"
    r.hset("post:1", mapping={"post": j("a"), "bgColor": j("#fff")})
    assert fcall(r, "doc_patch", ["post:1"], None, "post", j("b")) == 1
    assert r.hgetall("post:1") == {b"post": b'"b"', b"bgColor": b'"#fff"'}


def test_doc_bump(r):
    assert refusal(r, "doc_bump", ["user:1"], {"field": "postsCount", "by": 1}) == "missing user:1"
    assert not r.exists("user:1")
    r.hset("user:1", "postsCount", 2)
    assert fcall(r, "doc_bump", ["user:1"], {"field": "postsCount", "by": -1}) == 1


def test_doc_add(r):
    keys = ["comment:c", "gone:comment", "post:p", "comments:p"]
    assert refusal(r, "doc_add", keys, {"id": "c", "score": 5}, "comment", j("hi")) == "missing post:p"
    assert not r.exists("comment:c", "comments:p")
    r.hset("post:p", "post", j("x"))
    r.zadd("gone:comment", {"c": 1})
    for _ in range(2):
        assert fcall(r, "doc_add", keys, {"id": "c", "score": 5}, "comment", j("hi")) == 1
    assert r.hgetall("comment:c") == {b"comment": b'"hi"'}
    assert r.zrange("comments:p", 0, -1, withscores=True) == [(b"c", 5.0)] and not r.exists("gone:comment")
    # Without a parent the document is its own: nothing else must be cached.
    assert fcall(r, "doc_add", ["post:q", "gone:post", "post:q", "posts"], {"id": "q", "score": 1}, "a", "1") == 1


def test_doc_remove(r):
    keys = ["post:1", "gone:post", "posts", "user:u", "complete:posts", "posts:user:u"]
    named = {"id": "1", "now": 10_000, "keep_ms": 1_000, "counter": "postsCount", "index_name": "posts"}
    assert refusal(r, "doc_remove", keys, named) == "incomplete posts"
    r.set("complete:posts", 1)
    assert refusal(r, "doc_remove", keys, named) == "missing user:u"
    r.hset("user:u", "postsCount", 3)
    r.hset("post:1", "post", j("x"))
    r.zadd("posts", {"1": 1, "2": 2})
    r.zadd("posts:user:u", {"1": 1})
    r.zadd("gone:post", {"old": 8_000, "recent": 9_500})
    assert fcall(r, "doc_remove", keys, named) == 2
    assert fcall(r, "doc_remove", keys, named) is None, "gone already: the counter moves once"
    assert r.hget("user:u", "postsCount") == b"2" and not r.exists("post:1", "posts:user:u")
    assert r.zrange("posts", 0, -1) == [b"2"]
    assert r.zrange("gone:post", 0, -1) == [b"recent", b"1"], "remembered for keep_ms, older ones trimmed"
    plain = ["image:i", "gone:image", "images:u", "image:i", "image:i"]
    r.zadd("images:u", {"i": 1})
    assert fcall(r, "doc_remove", plain, {"id": "i", "now": 1, "keep_ms": 1}) == 0, "no counter, no index_name"
    down = ["comment:c", "gone:comment", "comments:p", "post:p", "comment:c"]
    r.hset("post:p", "commentsCount", 1)
    r.zadd("comments:p", {"c": 1})
    unless = {"id": "c", "now": 1, "keep_ms": 1, "counter": "commentsCount", "unless": "takenDown"}
    assert refusal(r, "doc_remove", down, unless) == "missing comment:c", "whether it counts must be known"
    r.hset("comment:c", mapping={"comment": j("rude"), "takenDown": "true"})
    assert fcall(r, "doc_remove", down, unless) == 1, "taken down: it had left the count already"
    assert not r.exists("comment:c", "comments:p")


# --- indexes -------------------------------------------------------------------

def test_index_merge(r):
    r.zadd("list", {"written-since": 99})
    r.zadd("gone", {"deleted-since": 1})
    added = fcall(r, "index_merge", ["list", "gone"], None, 1, "written-since", 2, "deleted-since", 3, "new")
    assert added == 1
    assert r.zrange("list", 0, -1, withscores=True) == [(b"new", 3.0), (b"written-since", 99.0)]


def test_index_complete(r):
    r.set("rebuild:x", "mine")
    assert fcall(r, "index_complete", ["complete:x", "rebuild:x"], {"token": "mine"}) == 1
    assert r.exists("complete:x") and not r.exists("rebuild:x")
    r.set("rebuild:y", "theirs")
    assert fcall(r, "index_complete", ["complete:y", "rebuild:y"], {"token": "mine"}) == 1
    assert r.get("rebuild:y") == b"theirs", "another's lock is left alone"


def test_index_abandon(r):
    r.set("rebuild:x", "theirs")
    assert fcall(r, "index_abandon", ["rebuild:x"], {"token": "mine"}) is None
    assert r.exists("rebuild:x")
    assert fcall(r, "index_abandon", ["rebuild:x"], {"token": "theirs"}) == 1
    assert not r.exists("rebuild:x")


def test_index_hold(r):
    r.set("rebuild:x", "mine", px=100)
    assert fcall(r, "index_hold", ["rebuild:x"], {"token": "other", "ms": 60_000}) is None
    assert r.pttl("rebuild:x") <= 100
    assert fcall(r, "index_hold", ["rebuild:x"], {"token": "mine", "ms": 60_000}) == 1
    assert r.pttl("rebuild:x") > 50_000


def test_cursor_page(r):
    def page(**named):
        return [m.decode() for m in fcall(r, "cursor_page", ["list", "complete:list"],
                                          {"limit": 2, "max_at": None, "since_at": None, **named})]

    assert refusal(r, "cursor_page", ["list", "complete:list"], {"limit": 2}) == "incomplete list"
    r.set("complete:list", 1)
    r.zadd("list", {"a": 1000, "b": 2000, "c": 2000, "d": 3000, "e": 4000})  # c after b: same ms, id order
    assert page() == ["e", "d"]
    assert page(max="d") == ["c", "b"] and page(max="b") == ["a"] and page(max="a") == []
    assert page(since="a") == ["e", "d"], "since: the newest of those newer"
    assert page(min="a") == ["c", "b"] and page(min="c") == ["e", "d"], "min: those just after it"
    assert page(max="e", since="b") == ["d", "c"] and page(max="d", min="a", limit=5) == ["c", "b"]
    assert page(max="c", since="b") == []
    assert page(max="gone", max_at=2500) == ["c", "b"], "a deleted bound stands at its time"
    assert page(min="gone", since_at=2500) == ["e", "d"]


# --- core modules ----------------------------------------------------------------

def test_ratelimit_reserve(r):
    assert [fcall(r, "ratelimit_reserve", ["rl:a"], {"window": 30, "by": 1}) for _ in range(3)] == [1, 2, 3]
    assert 0 < r.ttl("rl:a") <= 30
    assert [fcall(r, "ratelimit_reserve", ["rl:b"], {"window": 30, "by": 4}) for _ in range(3)] == [4, 8, 12]
    assert 0 < r.ttl("rl:b") <= 30


def test_presence_leave(r):
    r.hset("presence:i", mapping={"alice": 2, "bobby": 1})
    assert fcall(r, "presence_leave", ["presence:i"], {"username": "alice"}) == 1
    assert fcall(r, "presence_leave", ["presence:i"], {"username": "bobby"}) == 0
    assert r.hgetall("presence:i") == {b"alice": b"1"}


def test_rq_enqueue(r):
    keys = ["rq:queues", "rq:job:j1", "rq:queue:post"]
    assert fcall(r, "rq_enqueue", keys, {"id": "j1"}, "status", "queued", "origin", "post") == 1
    assert r.smembers("rq:queues") == {b"rq:queue:post"}
    assert r.hgetall("rq:job:j1") == {b"status": b"queued", b"origin": b"post"}
    assert r.lrange("rq:queue:post", 0, -1) == [b"j1"]


def test_persist_signal(r):
    def signal(job_id: str, members: list[str]) -> int:
        keys = ["persist:drain:user", "persist:waiting:user", "rq:queues", f"rq:job:{job_id}", "rq:queue:user"]
        return fcall(r, "persist_signal", keys, {"members": members, "id": job_id, "ttl": 60}, "status", "queued")

    assert signal("j1", ["user:a", "user:b"]) == 1
    assert signal("j2", ["user:b", "user:c"]) == 0, "a drain job is waiting: no second one"
    assert r.smembers("persist:drain:user") == {b"user:a", b"user:b", b"user:c"}
    assert r.lrange("rq:queue:user", 0, -1) == [b"j1"] and not r.exists("rq:job:j2")
    assert r.get("persist:waiting:user") == b"j1" and 0 < r.ttl("persist:waiting:user") <= 60
    assert r.hgetall("rq:job:j1") == {b"status": b"queued"} and r.smembers("rq:queues") == {b"rq:queue:user"}
    r.delete("persist:waiting:user")  # the drain job started
    assert signal("j3", []) == 1 and r.lrange("rq:queue:user", 0, -1) == [b"j1", b"j3"]


def test_queue_signal(r):
    def signal(job_id: str, entries: list[str]) -> int:
        keys = ["feed:fanout", "feed:fanout:waiting", "rq:queues", f"rq:job:{job_id}", "rq:queue:feed"]
        return fcall(r, "queue_signal", keys, {"members": entries, "id": job_id, "ttl": 60}, "status", "queued")

    assert signal("j1", ["b"]) == 1
    assert signal("j2", ["a", "b"]) == 0, "a drain job is waiting: no second one"
    assert r.lrange("feed:fanout", 0, -1) == [b"b", b"a", b"b"], "in order, repeats kept"
    assert r.lrange("rq:queue:feed", 0, -1) == [b"j1"] and not r.exists("rq:job:j2")
    assert r.hgetall("rq:job:j1") == {b"status": b"queued"} and 0 < r.ttl("feed:fanout:waiting") <= 60


def test_queue_take(r):
    keys = ["feed:fanout", "feed:fanout:taken"]
    r.rpush("feed:fanout", "e1", "e2", "e3")
    assert fcall(r, "queue_take", keys, {"id": "t1", "n": 2, "now": 1000, "stale": 120}) == [b"e1", b"e2"]
    assert r.lrange("feed:fanout", 0, -1) == [b"e3"]
    assert orjson.loads(r.hget("feed:fanout:taken", "t1")) == {"at": 1000, "entries": ["e1", "e2"]}
    assert fcall(r, "queue_take", keys, {"id": "t2", "n": 2, "now": 1100, "stale": 120}) == [b"e3"]
    assert fcall(r, "queue_take", keys, {"id": "t3", "n": 2, "now": 1110, "stale": 120}) == []
    assert sorted(r.hkeys("feed:fanout:taken")) == [b"t1", b"t2"], "an empty take holds nothing"
    r.rpush("feed:fanout", "e4")
    assert fcall(r, "queue_take", keys, {"id": "t4", "n": 5, "now": 1121, "stale": 120}) == [b"e1", b"e2", b"e4"], \
        "a take held over `stale` s goes back first, in its order; a younger one stays held"
    assert sorted(r.hkeys("feed:fanout:taken")) == [b"t2", b"t4"] and not r.exists("feed:fanout")
    assert fcall(r, "queue_take", keys, {"id": "t5", "n": 9, "now": 2000, "stale": 120}) == [b"e3", b"e1", b"e2", b"e4"], \
        "two stale takes: the older one's entries first"


def test_queue_give_back(r):
    keys = ["feed:fanout", "feed:fanout:taken"]
    r.rpush("feed:fanout", "e1", "e2", "e3")
    assert fcall(r, "queue_take", keys, {"id": "t1", "n": 2, "now": 1000, "stale": 120}) == [b"e1", b"e2"]
    assert fcall(r, "queue_give_back", keys, {"id": "t1"}) == 2
    assert r.lrange("feed:fanout", 0, -1) == [b"e1", b"e2", b"e3"] and not r.exists("feed:fanout:taken")
    assert fcall(r, "queue_give_back", keys, {"id": "t1"}) == 0, "given back once"
    assert r.lrange("feed:fanout", 0, -1) == [b"e1", b"e2", b"e3"]


def test_auth_claim(r):
    keys = ["auth:usernames", "auth:emails"]
    assert fcall(r, "auth_claim", keys, {"username": "alice", "email": "a@x", "authId": "1"}) == 1
    assert fcall(r, "auth_claim", keys, {"username": "alice", "email": "b@x", "authId": "2"}) is None
    assert fcall(r, "auth_claim", keys, {"username": "bobby", "email": "a@x", "authId": "3"}) is None
    assert r.hgetall("auth:usernames") == {b"alice": b"1"} and r.hgetall("auth:emails") == {b"a@x": b"1"}


def test_users_merge(r):
    r.zadd("users", {"u1": 50})
    added = fcall(r, "users_merge", ["users", "users:names"], {"entries": [["u1", 1, "Alice"], ["u2", 2, "Bob"]]})
    assert added == 1
    assert r.zrange("users", 0, -1, withscores=True) == [(b"u2", 2.0), (b"u1", 50.0)]
    assert r.zrange("users:names", 0, -1) == [b"alice\x00u1", b"bob\x00u2"]


# --- the social graph --------------------------------------------------------------

def graph_ready(r, *users: str) -> None:
    r.set("complete:blocks", 1)
    r.set("complete:accounts:suspended", 1)
    for u in users:
        r.set(f"complete:follows:{u}", 1)
        r.hset(f"user:{u}", mapping={"followersCount": 0, "followingCount": 0, "blocked": "[]", "blockedBy": "[]"})


SUSPENDED = ["accounts:suspended", "complete:accounts:suspended"]
FOLLOW = ["following:a", "followers:b", "user:a", "user:b", "blocked:a", "blocked:b", "complete:follows:a",
          "complete:follows:b", "complete:blocks", "gone:follow", *SUSPENDED]


def counts(r, user: str) -> tuple[int, int]:
    return int(r.hget(f"user:{user}", "followersCount")), int(r.hget(f"user:{user}", "followingCount"))


def test_graph_follow(r):
    named = {"a": "a", "b": "b", "at": 7}
    assert refusal(r, "graph_follow", FOLLOW, named) == "incomplete follows:a follows:b blocks accounts:suspended"
    r.set("complete:blocks", 1)
    r.set("complete:follows:a", 1)
    r.set("complete:follows:b", 1)
    r.set("complete:accounts:suspended", 1)
    assert refusal(r, "graph_follow", FOLLOW, named) == "missing user:a user:b", "every missing user at once"
    graph_ready(r, "a", "b")
    r.zadd("gone:follow", {"a-b": 1})
    assert fcall(r, "graph_follow", FOLLOW, named) == 1
    assert fcall(r, "graph_follow", FOLLOW, named) is None, "the same follow again moves nothing"
    assert r.zrange("following:a", 0, -1, withscores=True) == [(b"b", 7.0)]
    assert r.zrange("followers:b", 0, -1) == [b"a"] and not r.exists("gone:follow")
    assert counts(r, "a") == (0, 1) and counts(r, "b") == (1, 0)
    r.sadd("blocked:b", "c")
    r.sadd("blocked:c", "a")
    across = ["following:a", "followers:c", "user:a", "user:c", "blocked:a", "blocked:c", "complete:follows:a",
              "complete:follows:c", "complete:blocks", "gone:follow", *SUSPENDED]
    graph_ready(r, "c")
    assert refusal(r, "graph_follow", across, {"a": "a", "b": "c", "at": 8}) == "blocked"
    gone = ["following:a", "followers:s", "user:a", "user:s", "blocked:a", "blocked:s", "complete:follows:a",
            "complete:follows:s", "complete:blocks", "gone:follow", *SUSPENDED]
    graph_ready(r, "s")
    r.zadd("accounts:suspended", {"s": 1})
    assert refusal(r, "graph_follow", gone, {"a": "a", "b": "s", "at": 9}) == "suspended"
    assert r.zrange("following:a", 0, -1) == [b"b"] and counts(r, "s") == (0, 0)


UNFOLLOW = ["following:a", "followers:b", "user:a", "user:b", "complete:follows:a", "complete:follows:b",
            "gone:follow"]


def test_graph_unfollow(r):
    named = {"a": "a", "b": "b", "now": 9}
    assert refusal(r, "graph_unfollow", UNFOLLOW, named) == "incomplete follows:a follows:b"
    graph_ready(r, "a", "b")
    fcall(r, "graph_follow", FOLLOW, {"a": "a", "b": "b", "at": 7})
    assert fcall(r, "graph_unfollow", UNFOLLOW, named) == 1
    assert fcall(r, "graph_unfollow", UNFOLLOW, named) is None
    assert counts(r, "a") == (0, 0) and counts(r, "b") == (0, 0)
    assert not r.exists("following:a", "followers:b")
    assert r.zscore("gone:follow", "a-b") == 9, "a rebuild must not bring it back"


BLOCK = ["user:a", "user:b", "blocked:a", "blockedby:b", "following:a", "followers:b", "following:b", "followers:a",
         "complete:follows:a", "complete:follows:b", "complete:blocks", "gone:follow", "gone:block"]


def test_graph_block(r):
    named = {"a": "a", "b": "b", "now": 9}
    assert refusal(r, "graph_block", BLOCK, named) == "incomplete follows:a follows:b blocks"
    graph_ready(r, "a", "b")
    fcall(r, "graph_follow", FOLLOW, {"a": "a", "b": "b", "at": 1})
    back = ["following:b", "followers:a", "user:b", "user:a", "blocked:b", "blocked:a", "complete:follows:b",
            "complete:follows:a", "complete:blocks", "gone:follow", *SUSPENDED]
    fcall(r, "graph_follow", back, {"a": "b", "b": "a", "at": 2})
    r.zadd("gone:block", {"a-b": 1})
    assert fcall(r, "graph_block", BLOCK, named) == [1, 1, 1]
    assert fcall(r, "graph_block", BLOCK, named) is None
    assert r.smembers("blocked:a") == {b"b"} and r.smembers("blockedby:b") == {b"a"}
    assert json.loads(r.hget("user:a", "blocked")) == ["b"] and json.loads(r.hget("user:b", "blockedBy")) == ["a"]
    assert counts(r, "a") == (0, 0) and counts(r, "b") == (0, 0), "the follows both ways ended"
    assert not r.exists("gone:block") and set(r.zrange("gone:follow", 0, -1)) == {b"a-b", b"b-a"}


UNBLOCK = ["user:a", "user:b", "blocked:a", "blockedby:b", "complete:blocks", "gone:block"]


def test_graph_unblock(r):
    named = {"a": "a", "b": "b", "now": 9}
    assert refusal(r, "graph_unblock", UNBLOCK, named) == "incomplete blocks"
    graph_ready(r, "a", "b")
    assert fcall(r, "graph_unblock", UNBLOCK, named) is None, "not blocked"
    fcall(r, "graph_block", BLOCK, named)
    assert fcall(r, "graph_unblock", UNBLOCK, named) == 1
    assert not r.exists("blocked:a", "blockedby:b")
    assert json.loads(r.hget("user:a", "blocked")) == [] and json.loads(r.hget("user:b", "blockedBy")) == []
    assert r.zscore("gone:block", "a-b") == 9


def test_graph_merge_follows(r):
    r.zadd("gone:follow", {"u-x": 1, "y-u": 1})
    r.zadd("following:u", {"z": 99})
    named = {"user": "u", "following": [["x", 1], ["z", 2], ["w", 3]], "followers": [["y", 4], ["v", 5]]}
    assert fcall(r, "graph_merge_follows", ["following:u", "followers:u", "gone:follow"], named) == 2
    assert r.zrange("following:u", 0, -1, withscores=True) == [(b"w", 3.0), (b"z", 99.0)]
    assert r.zrange("followers:u", 0, -1) == [b"v"]


def test_graph_merge_blocks(r):
    r.zadd("gone:block", {"a-b": 1})
    keys = ["gone:block", "blocked:a", "blockedby:b", "blocked:c", "blockedby:d"]
    assert fcall(r, "graph_merge_blocks", keys, {"pairs": [["a", "b"], ["c", "d"]]}) == 1
    assert not r.exists("blocked:a", "blockedby:b")
    assert r.smembers("blocked:c") == {b"d"} and r.smembers("blockedby:d") == {b"c"}


# --- posts ---------------------------------------------------------------------------

INDEX = ["post:1", "posts:audience", "posts:counts", "posts:images", "posts:videos", "accounts:suspended",
         "accounts:limited", "posts:sums"]


def test_post_encode(r):
    import orjson

    assert fcall(r, "post_encode", ["post:p1"]) is None, "no hash: nothing made (no partial document)"
    assert not r.exists("post:p1")
    r.hset("post:p1", mapping={"_id": '"p1"', "post": '"a \\"quoted\\" text"', "privacy": '"Public"',
                               "commentsCount": "3", "reactions.like": "2", "takenDown": "false"})
    assert fcall(r, "post_encode", ["post:p1"]) == 1
    assert orjson.loads(r.hget("post:p1", "_json")) == {"_id": "p1", "post": 'a "quoted" text', "privacy": "Public",
                                                       "takenDown": False}, "every field but the counters, as JSON"
    r.hset("post:p1", "odd field", '"x"')
    assert fcall(r, "post_encode", ["post:p1"]) is None and not r.hexists("post:p1", "_json"), \
        "a field that is not a plain word: no encoding (the readers decode the hash instead)"


def test_post_encode_then_spliced_with_the_counters(r):
    import orjson

    from mysocial.posts.cache import REACTIONS, _SPLICED, spliced

    zeros = {f"reactions.{kind}": "0" for kind in REACTIONS}
    r.hset("post:p1", mapping={"_id": '"p1"', "post": '"hello"', "commentsCount": "3", **zeros, "reactions.like": "2"})
    fcall(r, "post_encode", ["post:p1"])
    r.hincrby("post:p1", "reactions.like", 5)  # a counter moves after the encoding
    r.hset("post:p2", mapping={"_id": '"p2"', "commentsCount": "0", **zeros})
    found = [spliced(r.hmget(k, _SPLICED)) for k in ("post:p1", "post:p2", "post:p3")]
    assert orjson.loads(found[0]) == {"_id": "p1", "post": "hello", "commentsCount": 3,
                                      "reactions": {**dict.fromkeys(REACTIONS, 0), "like": 7}}
    assert found[1:] == [None, None], "not encoded, or no hash: the caller decodes the hash"
    r.hset("post:p1", "_json", orjson.dumps('{"_id":"p1","post":"hello"'))  # an earlier version's form
    assert spliced(r.hmget("post:p1", _SPLICED)) is None, "an encoding of an earlier version: encoded again"
    r.hset("post:p1", "_json", '{"_id":"p1"}')
    r.hdel("post:p1", "reactions.sad")
    assert spliced(r.hmget("post:p1", _SPLICED)) is None, "a counter missing: decoded from the hash instead"


def test_post_index(r):
    named = {"id": "1", "score": 5, "audience": True, "image": True, "video": False}
    assert fcall(r, "post_index", INDEX, named) is None, "the post is not cached: nothing to list"
    assert not r.exists("posts:audience", "posts:images")
    r.hset("post:1", mapping={"userId": j("u"), "privacy": j("Public")})
    for _ in range(2):
        assert fcall(r, "post_index", INDEX, named) == 1
    assert r.hgetall("posts:counts") == {b"u:Public": b"1", b"Public": b"1"}, "counted once"
    assert r.zrange("posts:images", 0, -1) == [b"1"]
    r.hset("post:1", "privacy", j("Private"))
    fcall(r, "post_index", INDEX, {"id": "1", "score": 5, "audience": True, "image": False})
    assert r.hgetall("posts:counts") == {b"u:Public": b"0", b"Public": b"0", b"u:Private": b"1", b"Private": b"1"}
    assert not r.exists("posts:images")
    r.hset("post:1", "takenDown", "true")
    fcall(r, "post_index", INDEX, {"id": "1", "score": 5, "audience": True})
    assert r.hget("posts:audience", "1") == b"u:Removed", "taken down, whatever its privacy"
    r.hset("post:1", mapping={"privacy": j("Public")})
    fcall(r, "post_index", INDEX, {"id": "1", "score": 5, "audience": True})
    assert r.hget("posts:audience", "1") == b"u:Removed", "an edit meanwhile does not undo the takedown"
    assert fcall(r, "post_index", INDEX, {"id": "1", "score": 5, "drop": True}) == 1
    assert not r.exists("posts:audience") and r.hget("posts:counts", "Removed") == b"0"


def listed(r, pid: str, score: int, audience: str) -> None:
    """A cached post whose audience entry is `audience` ("<author>:<privacy>", Removed: taken down)."""
    author, privacy = audience.split(":")
    fields = {"post": j(pid), "userId": j(author), "privacy": j("Public" if privacy == "Removed" else privacy)}
    r.hset("post:" + pid, mapping={**fields, **({"takenDown": "true"} if privacy == "Removed" else {})})
    r.zadd("posts", {pid: score})
    fcall(r, "post_index", ["post:" + pid, *INDEX[1:]], {"id": pid, "score": score, "audience": True})


def test_posts_merge(r):
    keys = ["posts", "posts:images", "posts:videos", "posts:audience", "posts:counts", "gone:post", "posts:sums",
            "posts:user:u"]
    r.zadd("posts", {"since": 50})
    r.zadd("gone:post", {"deleted": 1})
    r.set("posts:sums", "0:0:0:0")
    entries = [["since", 1, 8, "u:Public", False, False], ["deleted", 2, 8, "u:Public", True, False],
               ["img", 3, 8, "u:Followers", True, False], ["vid", 4, 8, "u:Public", False, True]]
    assert fcall(r, "posts_merge", keys, {"entries": entries}) == 2
    assert not r.exists("posts:sums"), "counted again when next needed"
    assert r.zrange("posts", 0, -1) == [b"img", b"vid", b"since"]
    assert r.zrange("posts:user:u", 0, -1) == [b"img", b"vid"]
    assert r.zrange("posts:images", 0, -1) == [b"img"] and r.zrange("posts:videos", 0, -1) == [b"vid"]
    assert r.hgetall("posts:counts") == {b"u:Followers": b"1", b"Followers": b"1", b"u:Public": b"1", b"Public": b"1"}


def page_keys(reader: str) -> list[str]:
    return ["posts", "posts:audience", "posts:counts", f"blocked:{reader}", f"blockedby:{reader}",
            f"following:{reader}", "accounts:suspended", "accounts:limited", "complete:posts", "complete:blocks",
            f"complete:follows:{reader}", "complete:accounts:suspended", "complete:accounts:limited", "posts:sums"]


def sums(r) -> None:
    fcall(r, "posts_sums", ["posts:counts", "accounts:suspended", "accounts:limited", "posts:sums"])


def test_posts_sums(r):
    r.hset("posts:counts", mapping={"s:Public": 3, "s:Followers": 5, "l:Public": 2, "x:Public": 7, "Public": 12})
    r.zadd("accounts:suspended", {"s": 1, "t": 1})
    r.zadd("accounts:limited", {"l": 1})
    sums(r)
    assert r.get("posts:sums") == b"3:2:2:1", "Public posts of the suspended, of the limited; how many of each"
    listed(r, "p1", 1, "x:Public")
    assert r.get("posts:sums") == b"3:2:2:1", "a post of someone in neither set leaves them"
    listed(r, "p2", 2, "l:Public")
    assert not r.exists("posts:sums"), "a limited author's post: counted again when next needed"
    sums(r)
    fcall(r, "post_index", ["post:p2", *INDEX[1:]], {"id": "p2", "score": 2, "drop": True})
    assert not r.exists("posts:sums")


def test_post_page(r):
    named = {"reader": "me", "skip": 0, "size": 10, "total": True}
    assert refusal(r, "post_page", page_keys("me"), named) == "incomplete posts"
    r.set("complete:posts", 1)
    assert refusal(r, "post_page", page_keys("me"), named) == "incomplete blocks"
    r.set("complete:blocks", 1)
    r.set("complete:follows:me", 1)
    assert refusal(r, "post_page", page_keys("me"), named) == "incomplete accounts:suspended"
    r.set("complete:accounts:suspended", 1)
    r.set("complete:accounts:limited", 1)
    posts = {"mine-private": "me:Private", "public": "x:Public", "friend-followers": "f:Followers",
             "stranger-followers": "s:Followers", "stranger-private": "s:Private", "blocked-public": "b:Public"}
    for n, (pid, audience) in enumerate(posts.items()):
        listed(r, pid, n, audience)
    r.zadd("following:me", {"f": 1})
    r.sadd("blockedby:me", "b")
    assert refusal(r, "post_page", page_keys("me"), named) == "stale sums"
    assert fcall(r, "post_page", page_keys("me"), {**named, "total": False})[1] is None, "a page without a total"
    sums(r)
    ids, total, _, _ = fcall(r, "post_page", page_keys("me"), named)
    assert ids == [b"friend-followers", b"public", b"mine-private"] and total == 3
    ids, total, _, _ = fcall(r, "post_page", page_keys("me"), {**named, "skip": 1, "size": 1})
    assert ids == [b"public"] and total == 3
    r.delete("complete:posts")
    flat, total, _, _ = fcall(r, "post_page", page_keys("me"), {**named, "partial": True})
    assert flat == [b"friend-followers", b"2", b"public", b"1", b"mine-private", b"0"] and total is None, \
        "while the posts are rebuilt: what Redis holds, with scores"


@pytest.mark.parametrize("crowd", [0, 100], ids=["small sets, read whole", "large sets, asked per author"])
def test_post_page__moderation(r, crowd):
    for marker in ("posts", "blocks", "follows:me", "accounts:suspended", "accounts:limited"):
        r.set(f"complete:{marker}", 1)
    for state in ("suspended", "limited"):
        if crowd:
            r.zadd(f"accounts:{state}", {f"{state}-{n}": 1 for n in range(crowd)})
    posts = {"mine-removed": "me:Removed", "removed": "x:Removed", "suspended": "s:Public",
             "limited-stranger": "l:Public", "limited-friend": "f:Public", "plain": "x:Public"}
    for n, (pid, audience) in enumerate(posts.items()):
        listed(r, pid, n, audience)
    r.zadd("following:me", {"f": 1})
    r.zadd("accounts:suspended", {"s": 1})
    r.zadd("accounts:limited", {"l": 1, "f": 1})
    sums(r)
    ids, total, _, _ = fcall(r, "post_page", page_keys("me"), {"reader": "me", "skip": 0, "size": 10, "total": True})
    assert ids == [b"plain", b"limited-friend", b"mine-removed"] and total == 3, \
        "taken down: the author's alone; suspended: nobody's; limited: followers only"
    r.set("complete:follows:s", 1)
    ids, total, _, _ = fcall(r, "post_page", page_keys("s"), {"reader": "s", "skip": 0, "size": 10, "total": True})
    assert ids == [b"plain", b"suspended"] and total == 2, "a suspended user still sees their own"


# --- reactions, comments, notifications -----------------------------------------------

REACT = ["post:p", "reaction:r", "reactions:p", "reactions:by:u", "gone:reaction", "complete:reactions:p"]


def reaction_counts(r) -> dict:
    return {k.decode(): int(v) for k, v in r.hgetall("post:p").items() if k.startswith(b"reactions.")}


def test_reaction_set(r):
    def react(kind: str):
        named = {"id": "r", "prefix": "reactions.", "type": kind, "now": 10_000, "keep_ms": 1_000}
        fields = ("type", j(kind), "username", j("u")) if kind else ()
        return fcall(r, "reaction_set", REACT, named, *fields)

    with pytest.raises(redis.ResponseError, match="REFUSED incomplete reactions:p"):
        react("love")
    r.set("complete:reactions:p", 1)
    with pytest.raises(redis.ResponseError, match="REFUSED missing post:p"):
        react("love")
    r.hset("post:p", mapping={"reactions.love": 0, "reactions.wow": 0})
    assert react("love") == b""
    assert react("love") == b"love", "the same reaction again moves nothing"
    assert reaction_counts(r) == {"reactions.love": 1, "reactions.wow": 0}
    assert react("wow") == b"love"
    assert reaction_counts(r) == {"reactions.love": 0, "reactions.wow": 1}
    assert json.loads(r.hget("reaction:r", "type")) == "wow" and r.zrange("reactions:by:u", 0, -1) == [b"r"]
    r.delete("reaction:r")
    with pytest.raises(redis.ResponseError, match="REFUSED missing reaction:r"):
        react("")  # listed but not cached: its type must be known to move the right counter
    r.hset("reaction:r", "type", j("wow"))
    assert react("") == b"wow"
    assert reaction_counts(r) == {"reactions.love": 0, "reactions.wow": 0}
    assert not r.exists("reaction:r", "reactions:p", "reactions:by:u") and r.zscore("gone:reaction", "r") == 10_000


def test_comment_add(r):
    keys = ["comment:c", "gone:comment", "post:p", "comments:p"]
    named = {"id": "c", "score": 3, "counter": "commentsCount"}
    assert refusal(r, "comment_add", keys, named, "comment", j("hi")) == "missing post:p"
    assert not r.exists("comment:c")
    r.hset("post:p", "commentsCount", 4)
    assert [fcall(r, "comment_add", keys, named, "comment", j("hi")) for _ in range(2)] == [5, 5]
    assert r.zrange("comments:p", 0, -1) == [b"c"] and r.hget("comment:c", "comment") == b'"hi"'


def test_notification_read(r):
    keys = ["notifications:u", "notification:n", "complete:notifications:u"]
    assert refusal(r, "notification_read", keys, {"id": "n"}) == "incomplete notifications:u"
    r.set("complete:notifications:u", 1)
    assert fcall(r, "notification_read", keys, {"id": "n"}) is None, "not this user's"
    r.zadd("notifications:u", {"n": 1})
    assert refusal(r, "notification_read", keys, {"id": "n"}) == "missing notification:n"
    r.hset("notification:n", "read", "false")
    assert fcall(r, "notification_read", keys, {"id": "n"}) == 1
    assert r.hget("notification:n", "read") == b"true"


def test_notification_put(r):
    keys = ["notification:n", "pending:deleted", "gone:notification", "notifications:u"]
    named = {"member": "notification:n", "id": "n", "ttl": 60, "score": 5}
    assert fcall(r, "notification_put", keys, named, "message", j("hi")) == b"filled"
    assert fcall(r, "notification_put", keys, named, "message", j("again")) == b"cached"
    assert r.hget("notification:n", "message") == b'"hi"' and r.zrange("notifications:u", 0, -1) == [b"n"]
    r.zadd("gone:notification", {"m": 1})
    gone = {**named, "member": "notification:m", "id": "m"}
    assert fcall(r, "notification_put", ["notification:m", *keys[1:]], gone, "message", j("x")) == b"gone"
    assert r.zrange("notifications:u", 0, -1) == [b"n"] and not r.exists("notification:m")


def test_comment_takedown(r):
    keys = ["comment:c", "post:p"]
    assert refusal(r, "comment_takedown", keys, {"down": True, "counter": "commentsCount"}) == "missing comment:c post:p"
    r.hset("comment:c", "comment", j("hi"))
    r.hset("post:p", "commentsCount", 3)
    assert [fcall(r, "comment_takedown", keys, {"down": True, "counter": "commentsCount"}) for _ in range(2)] == [2, None]
    assert r.hget("comment:c", "takenDown") == b"true"
    assert fcall(r, "comment_takedown", keys, {"down": False, "counter": "commentsCount"}) == 3
    assert r.hget("comment:c", "takenDown") == b"false"


# --- chat -----------------------------------------------------------------------------

def send_keys(msg: str) -> list[str]:
    return ["chat:conv:c", f"chat:msg:{msg}", "chat:conv:c:msgs", "chat:list:a", "chat:list:b",
            "chat:conv:c:unread:b", "chat:conv:c:unread:a"]


def send(r, msg: str, score: int, new: bool = False, read: bool = False):
    conv = ("_id", j("c"), "senderId", j("a"))
    named = {"id": msg, "conversation": "c", "score": score, "read": read, "new": new, "fields": 2}
    return fcall(r, "chat_send", send_keys(msg), named, *conv, "body", j(msg))


def test_chat_send(r):
    assert refusal(r, "chat_send", send_keys("m1"), {"id": "m1", "conversation": "c", "score": 1, "read": False,
                                                      "new": False, "fields": 0}) == "missing chat:conv:c"
    assert send(r, "m1", 100, new=True) == [1, 0, 1]
    assert send(r, "m2", 90) == [2, 0, 2], "an older clock does not move lastMessageAt back"
    assert send(r, "m2", 90) == [2, 0, 2], "the same send again changes nothing"
    assert send(r, "m3", 200, read=True) == [3, 0, 2]
    conv = r.hgetall("chat:conv:c")
    assert (conv[b"seq"], conv[b"lastMessageId"], conv[b"lastMessageAt"]) == (b"3", b'"m3"', b"200")
    assert r.hgetall("chat:msg:m2") == {b"seq": b"2", b"body": b'"m2"'}
    assert r.zrange("chat:conv:c:msgs", 0, -1, withscores=True) == [(b"m1", 1), (b"m2", 2), (b"m3", 3)]
    assert r.zrange("chat:conv:c:unread:b", 0, -1) == [b"m1", b"m2"]
    assert r.zscore("chat:list:a", "c") == 200 and r.zscore("chat:list:b", "c") == 200


def test_chat_mark_read(r):
    send(r, "m1", 1, new=True)
    send(r, "m2", 2)
    r.delete("chat:msg:m2")  # evicted: only the unread set changes
    keys = ["chat:conv:c:unread:b", "chat:msg:m1", "chat:msg:m2", "chat:msg:m3"]
    assert fcall(r, "chat_mark_read", keys, {"ids": ["m1", "m2", "m3"]}) == 1
    assert fcall(r, "chat_mark_read", keys, {"ids": ["m1", "m2", "m3"]}) == 0, "read already"
    assert r.hget("chat:msg:m1", "isRead") == b"true" and not r.exists("chat:conv:c:unread:b", "chat:msg:m2")


def test_chat_react(r):
    assert refusal(r, "chat_react", ["chat:msg:m"], {"sender": "A", "action": "add", "reaction": "wow"}) \
        == "missing chat:msg:m"
    r.hset("chat:msg:m", "reaction", "[]")
    fcall(r, "chat_react", ["chat:msg:m"], {"sender": "A", "action": "add", "reaction": "wow"})
    fcall(r, "chat_react", ["chat:msg:m"], {"sender": "B", "action": "add", "reaction": "sad"})
    answer = fcall(r, "chat_react", ["chat:msg:m"], {"sender": "A", "action": "add", "reaction": "love"})
    assert json.loads(answer) == [{"senderName": "B", "type": "sad"}, {"senderName": "A", "type": "love"}]
    fcall(r, "chat_react", ["chat:msg:m"], {"sender": "B", "action": "remove", "reaction": "sad"})
    assert json.loads(r.hget("chat:msg:m", "reaction")) == [{"senderName": "A", "type": "love"}]


def test_chat_delete(r):
    keys = ["chat:msg:m", "chat:conv:c:unread:b", "chat:conv:c:unread:r"]
    assert refusal(r, "chat_delete", keys, {"caller": "b", "kind": "deleteForMe", "id": "m"}) == "missing chat:msg:m"
    r.hset("chat:msg:m", mapping={"body": j("secret"), "deletedFor": "[]", "reaction": j([{"type": "wow"}])})
    r.zadd("chat:conv:c:unread:b", {"m": 1})
    r.zadd("chat:conv:c:unread:r", {"m": 1})
    for _ in range(2):
        assert fcall(r, "chat_delete", keys, {"caller": "b", "kind": "deleteForMe", "id": "m"}) == 1
    assert json.loads(r.hget("chat:msg:m", "deletedFor")) == ["b"] and not r.exists("chat:conv:c:unread:b")
    assert fcall(r, "chat_delete", keys, {"caller": "b", "kind": "deleteForEveryone", "id": "m"}) == 1
    msg = r.hgetall("chat:msg:m")
    assert (msg[b"body"], msg[b"reaction"], msg[b"deleteForEveryone"]) == (b'""', b"[]", b"true")
    assert not r.exists("chat:conv:c:unread:r")


def test_chat_fill_conversation(r):
    keys = ["chat:conv:c", "chat:conv:c:unread:a", "chat:conv:c:unread:b"]
    unread = {"unread": [[], [[1, "m1"], [2, "m2"]]]}
    assert fcall(r, "chat_fill_conversation", keys, unread, "seq", "2") == 1
    assert r.hgetall("chat:conv:c") == {b"seq": b"2"} and r.zrange("chat:conv:c:unread:b", 0, -1) == [b"m1", b"m2"]
    assert not r.exists("chat:conv:c:unread:a")
    assert fcall(r, "chat_fill_conversation", keys, {"unread": [[[3, "m3"]], []]}, "seq", "1") is None
    assert r.hget("chat:conv:c", "seq") == b"2" and not r.exists("chat:conv:c:unread:a"), "cached: left alone"


# --- sessions ----------------------------------------------------------------------------

def test_session_rotate(r):
    def rotate(generation: int, now: int):
        return fcall(r, "session_rotate", ["session:s"], {"generation": generation, "now": now, "grace_ms": 30_000,
                                                          "expires": now + 1_000_000})

    assert refusal(r, "session_rotate", ["session:s"], {"generation": 0, "now": 1, "grace_ms": 1, "expires": 2}) \
        == "missing session:s"
    r.hset("session:s", mapping={"refreshGen": 0, "rotatedAt": 0, "lastUsedAt": 5, "expiresAt": 10})
    assert rotate(0, 100_000) == [b"rotated", 1]
    assert rotate(0, 110_000) == [b"grace", 1], "a concurrent refresh gets the same next token"
    assert rotate(1, 120_000) == [b"rotated", 2]
    assert rotate(1, 200_000) == [b"reused", 2], "spent, outside the grace window"
    assert rotate(0, 121_000) == [b"reused", 2], "two generations back is a reuse, whenever"
    assert rotate(5, 121_000) == [b"reused", 2]
    stored = r.hgetall("session:s")
    assert (stored[b"refreshGen"], stored[b"rotatedAt"], stored[b"lastUsedAt"], stored[b"expiresAt"]) == \
        (b"2", b"120000", b"120000", b"1120000"), "only a rotation writes"


# --- moderation ----------------------------------------------------------------------------

ACCOUNT = ["account:u", "accounts:limited", "accounts:suspended", "complete:accounts:limited",
           "complete:accounts:suspended", "gone:account:limited", "gone:account:suspended"]


def test_account_state(r):
    base = ["_id", j("u"), "role", j("user"), "state", j("active")]
    named = {"id": "u", "state": "limited", "now": 5, "keep_ms": 10, "base": base}
    assert refusal(r, "account_state", ACCOUNT, named, "state", j("limited")) == "incomplete accounts:limited"
    assert not r.exists("account:u")
    r.set("complete:accounts:limited", 1)
    r.set("complete:accounts:suspended", 1)
    r.zadd("gone:account:limited", {"u": 1})
    assert fcall(r, "account_state", ACCOUNT, named, "state", j("limited")) == b"active", "not cached: stored as base"
    assert r.hgetall("account:u") == {b"_id": b'"u"', b"role": b'"user"', b"state": b'"limited"'}
    assert fcall(r, "account_state", ACCOUNT, named, "state", j("limited")) == b"limited"
    assert r.zrange("accounts:limited", 0, -1) == [b"u"] and not r.exists("gone:account:limited")
    r.hset("account:u", "role", j("moderator"))
    suspend = {"id": "u", "state": "suspended", "now": 6, "keep_ms": 10, "base": base}
    assert fcall(r, "account_state", ACCOUNT, suspend, "state", j("suspended"), "reason", j("spam")) == b"limited"
    assert r.hget("account:u", "role") == b'"moderator"', "cached: the base is not applied"
    assert not r.exists("accounts:limited") and r.zrange("accounts:suspended", 0, -1) == [b"u"]
    assert r.zscore("gone:account:limited", "u") == 6, "a rebuild must not bring the limit back"
    assert fcall(r, "account_state", ACCOUNT, {**suspend, "state": None, "now": 7}, "role", j("admin")) == b"suspended"
    assert r.zrange("accounts:suspended", 0, -1) == [b"u"], "a role change leaves the standing alone"
    fcall(r, "account_state", ACCOUNT, {**suspend, "state": "active", "now": 100}, "state", j("active"))
    assert r.zrange("gone:account:limited", 0, -1) == [], "trimmed after keep_ms"
    assert r.zrange("gone:account:suspended", 0, -1) == [b"u"]


def report_keys(rid: str = "r1") -> list[str]:
    return [f"report:{rid}", "gone:report", "reports:open", "reported:alice", "complete:reports"]


def test_report_open(r):
    named = {"id": "r1", "score": 5, "target": "post:p"}
    assert refusal(r, "report_open", report_keys(), named, "status", j("open")) == "incomplete reports"
    r.set("complete:reports", 1)
    for _ in range(2):
        assert fcall(r, "report_open", report_keys(), named, "status", j("open")) == 1
    assert r.zrange("reports:open", 0, -1) == [b"r1"] and r.hgetall("reported:alice") == {b"post:p": b"r1"}
    again = {"id": "r2", "score": 6, "target": "post:p"}
    assert refusal(r, "report_open", report_keys("r2"), again, "status", j("open")) == "duplicate r1"
    assert not r.exists("report:r2")
    assert fcall(r, "report_open", report_keys("r3"), {"id": "r3", "score": 7, "target": "user:u"}, "status", j("open")) == 1


def test_report_status(r):
    keys = ["report:r1", "reports:open", "reports:resolved", "reported:alice", "complete:reports"]
    resolve = {"id": "r1", "score": 5, "status": "resolved", "target": "post:p"}
    assert refusal(r, "report_status", keys, resolve, "status", j("resolved")) == "missing report:r1"
    r.set("complete:reports", 1)
    fcall(r, "report_open", report_keys(), {"id": "r1", "score": 5, "target": "post:p"}, "status", j("open"))
    assert fcall(r, "report_status", keys, resolve, "status", j("resolved")) == 1
    assert not r.exists("reports:open", "reported:alice") and r.zrange("reports:resolved", 0, -1) == [b"r1"]
    fcall(r, "report_open", report_keys("r2"), {"id": "r2", "score": 6, "target": "post:p"}, "status", j("open"))
    reopen = {**resolve, "status": "open"}
    assert refusal(r, "report_status", keys, reopen, "status", j("open")) == "duplicate r2"
    assert r.hget("report:r1", "status") == b'"resolved"'
    fcall(r, "report_status", ["report:r2", *keys[1:]], {**resolve, "id": "r2"}, "status", j("resolved"))
    assert fcall(r, "report_status", keys, reopen, "status", j("open")) == 1
    assert r.zrange("reports:open", 0, -1) == [b"r1"] and r.hget("reported:alice", "post:p") == b"r1"


def test_reports_merge(r):
    r.zadd("gone:report", {"deleted": 1})
    r.zadd("reports:resolved", {"written-since": 9})
    keys = ["reports:open", "reports:resolved", "gone:report", "reported:alice"]
    entries = [["o", 1, "open", 4, "post:p"], ["x", 2, "resolved", 4, "post:q"], ["deleted", 3, "open", 4, "user:u"],
               ["written-since", 4, "open", 4, "post:z"]]
    assert fcall(r, "reports_merge", keys, {"entries": entries}) == 2
    assert r.zrange("reports:open", 0, -1) == [b"o"] and r.zrange("reports:resolved", 0, -1) == [b"x", b"written-since"]
    assert r.hgetall("reported:alice") == {b"post:p": b"o"}
