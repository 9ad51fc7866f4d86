"""A reader who sees few posts of a long list: one library call looks at a bounded part of it
(posts.listing.SCAN_STEP entries, so Redis is never stopped while a whole list is read) and one
request at SCAN_MAX; a cursor page that ran out says in its Link header where to go on."""
from __future__ import annotations

import pytest

from mysocial.posts import listing
from tests.posts_helpers import call, post, users
from tests.test_functions import fcall, loaded  # noqa: F401 (the fixture)
from tests.test_functions import page_keys
from tests.test_functions_timelines import READER


def hidden_list(r, visible: set[str]) -> None:
    """Ten posts p0 (oldest) .. p9 of a stranger's, Followers only, but those `visible`: Public."""
    for marker in ("posts", "blocks", "follows:me", "follows:r", "accounts:suspended", "accounts:limited", "list"):
        r.set(f"complete:{marker}", 1)
    for n in range(10):
        r.zadd("posts", {f"p{n}": n})
        r.hset("posts:audience", f"p{n}", "s:Public" if f"p{n}" in visible else "s:Followers")
    r.zadd("list", {f"p{n}": n for n in range(10)})


@pytest.mark.usefixtures("loaded")
def test_post_page_looks_at_its_budget_and_goes_on_where_it_stopped(r):
    hidden_list(r, {"p8", "p5", "p1"})
    named = {"reader": "me", "skip": 1, "size": 2, "total": False, "budget": 4}
    assert fcall(r, "post_page", page_keys("me"), named) == [[], None, 4, 1], \
        "p9..p6 looked at: p8 seen and skipped; go on at rank 4, one seen"
    assert fcall(r, "post_page", page_keys("me"), {**named, "start": 4, "seen": 1}) == [[b"p5"], None, 8, 2]
    assert fcall(r, "post_page", page_keys("me"), {**named, "size": 1, "start": 8, "seen": 2}) == \
        [[b"p1"], None, None, 3], "the page is full"
    assert fcall(r, "post_page", page_keys("me"), {**named, "start": 8, "seen": 2}) == [[b"p1"], None, None, 3], \
        "the list ends within the budget"


@pytest.mark.usefixtures("loaded")
def test_posts_cursor_cut_names_the_last_entry_looked_at(r):
    hidden_list(r, {"p2"})
    keys = ["list", "posts:audience", "posts", "complete:list", "home:floor:r", *READER]
    named = {"reader": "r", "mode": "all", "limit": 3, "budget": 4}
    assert fcall(r, "posts_cursor", keys, named) == [[], None, b"p6"], "p9..p6 looked at"
    assert fcall(r, "posts_cursor", keys, {**named, "max": "p6"}) == [[b"p2"], None, b"p2"], "p5..p2 looked at"
    assert fcall(r, "posts_cursor", keys, {**named, "max": "p2"}) == [[], None, None], "the list ends"
    assert fcall(r, "posts_cursor", keys, {**named, "min": "p0"}) == [[b"p2"], None, b"p4"], \
        "upwards from the bound: p1..p4 looked at"
    assert fcall(r, "posts_cursor", keys, {**named, "limit": 1}) == [[], None, b"p6"]
    assert fcall(r, "posts_cursor", keys, {**named, "max": "p3", "limit": 1}) == [[b"p2"], None, None], \
        "a full page is not cut"


@pytest.fixture
def small_scans(monkeypatch):
    monkeypatch.setattr(listing, "SCAN_STEP", 2)
    monkeypatch.setattr(listing, "SCAN_MAX", 6)


def link_ids(response_headers) -> dict[str, str]:
    """{"next": max_id, "prev": min_id} of a Link header."""
    found = {}
    for part in response_headers.get("Link", "").split(", "):
        if part:
            url, rel = part.split("; ")
            found[rel.removeprefix('rel="').removesuffix('"')] = url.rstrip(">").rpartition("_id=")[2]
    return found


@pytest.mark.usefixtures("small_scans")
async def test_a_timeline_that_runs_out_of_its_scan_links_past_it(client):
    alice, bobby, carol = await users(client, "alice", "bobby", "carol")
    old = (await post(client, carol, post="old"))["_id"]
    private = [(await post(client, bobby, post=f"p{n}", privacy="Private"))["_id"] for n in range(7)]
    response = await client.get("/api/v1/timelines/all", headers=alice.h)
    assert response.status == 200 and (await response.json())["posts"] == []
    assert link_ids(response.headers) == {"next": private[1]}, "six looked at, in three steps; nothing seen"
    response = await client.get("/api/v1/timelines/all", headers=alice.h, params={"max_id": private[1]})
    assert [p["_id"] for p in (await response.json())["posts"]] == [old]
    assert link_ids(response.headers) == {"next": old, "prev": old}
    response = await client.get("/api/v1/timelines/all", headers=alice.h, params={"min_id": old})
    assert link_ids(response.headers) == {"next": old, "prev": private[5]}, "upwards: p0..p5 looked at"
    response = await client.get("/api/v1/timelines/all", headers=bobby.h)
    assert [p["_id"] for p in (await response.json())["posts"]] == private[:0:-1], "six looked at, all seen"
    assert link_ids(response.headers) == {"next": private[1], "prev": private[6]}


@pytest.mark.usefixtures("small_scans")
async def test_numbered_pages_reach_the_newest_scan_max_posts(client, monkeypatch):
    alice, bobby, carol = await users(client, "alice", "bobby", "carol")
    old = (await post(client, carol, post="old"))["_id"]
    for n in range(6):
        await post(client, bobby, post=f"p{n}", privacy="Private")
    answer = await call(client, "GET", "/post/all/1", alice)
    assert answer["posts"] == [] and answer["totalPosts"] == 1, "the old post is the seventh entry"
    monkeypatch.setattr(listing, "SCAN_MAX", 7)
    answer = await call(client, "GET", "/post/all/1", alice)
    assert [p["_id"] for p in answer["posts"]] == [old], "found in the fourth step of two entries"
