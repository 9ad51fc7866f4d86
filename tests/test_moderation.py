"""Moderation: roles from the command line, reports and their queue, takedowns, account actions and
the audit log — each rule as a user, a moderator and a stranger see it, over REST and sockets."""
from __future__ import annotations

import asyncio
import os
import subprocess
import sys

import pytest
from bson import ObjectId
from yarl import URL

from mysocial import cli
from mysocial.core.mail import read_outbox
from tests.conftest import create_app, redis_state, settle, until, until_disconnected
from tests.posts_helpers import API, User, block, call, feed, feed_ids, follow, post, users

ADMIN_ROUTES = [
    ("GET", "/admin/reports", None),
    ("PUT", "/admin/reports/{id}", {"action": "resolve"}),
    ("POST", "/admin/posts/{id}/takedown", {}),
    ("POST", "/admin/posts/{id}/restore", {}),
    ("POST", "/admin/comments/{id}/takedown", {}),
    ("POST", "/admin/comments/{id}/restore", {}),
    ("POST", "/admin/accounts/{id}/action", {"type": "suspend"}),
    ("GET", "/admin/audit", None),
]


async def grant(settings, name: str, role: str) -> None:
    status, message = await asyncio.to_thread(cli.grant, settings, name, role)
    assert status == 0, message


async def staff_and_people(client, settings, *names: str) -> list[User]:
    """A moderator (`modo`), then users with these names."""
    made = await users(client, "modo", *names)
    await grant(settings, "modo", "moderator")
    client.session.cookie_jar.clear()
    return made


async def report(client, user: User, target_type: str, target_id: str, status: int = 201, **more) -> dict:
    body = {"targetType": target_type, "targetId": target_id, "category": "spam", **more}
    return await call(client, "POST", "/reports", user, status, json=body)


async def act(client, modo: User, user: User, kind: str, status: int = 200, **more) -> dict:
    return await call(client, "POST", f"/admin/accounts/{user.id}/action", modo, status,
                      json={"type": kind, "reason": "rules", **more})


def next_page(response) -> str:
    """The path and query of the `rel="next"` link."""
    return URL(response.headers["Link"].split(";")[0].strip("<>")).path_qs


async def comments_count(client, reader: User) -> int:
    return (await feed(client, reader))["posts"][0]["commentsCount"]


async def comment(client, user: User, post_id: str, author: str, text: str = "hi") -> dict:
    return (await call(client, "POST", "/post/comment", user, json={"userTo": author, "postId": post_id,
                                                                   "comment": text}))["comment"]


# --- who may -----------------------------------------------------------------------------------

@pytest.mark.parametrize("method, path, body", ADMIN_ROUTES)
async def test_admin_routes_answer_403_to_a_user_and_to_a_stranger(client, r, method, path, body):
    (alice,) = await users(client, "alice")
    client.session.cookie_jar.clear()
    before = redis_state(r)
    for who in (alice, None):
        answer = await call(client, method, path.format(id=alice.id), who, 403, json=body)
        assert answer["message"] == "You are not allowed to do this"
    assert redis_state(r) == before


async def test_roles_come_from_the_command_line(client, settings, db, drain):
    (alice,) = await users(client, "alice")
    client.session.cookie_jar.clear()
    await call(client, "GET", "/admin/audit", alice, 403)
    env = {**os.environ, "REDIS_URL": settings.redis_url, "MONGO_URL": settings.mongo_url,
           "MONGO_DB": settings.mongo_db, "MYSOCIAL_ENV": "test"}
    done = await asyncio.to_thread(subprocess.run, [sys.executable, "-m", "mysocial", "admin", "grant", "alice", "admin"],
                                   env=env, capture_output=True, text=True, timeout=60)
    assert done.returncode == 0 and f"Alice ({alice.id}) is now admin" in done.stdout, done.stderr
    audit = (await call(client, "GET", "/admin/audit", alice))["audit"]
    assert [(e["action"], e["targetId"], e["actorName"]) for e in audit] == [("role.admin", alice.id, "command line")]
    missing = await asyncio.to_thread(subprocess.run, [sys.executable, "-m", "mysocial", "admin", "grant", "nobody",
                                                       "admin"], env=env, capture_output=True, text=True, timeout=60)
    assert missing.returncode == 1 and "User not found" in missing.stderr
    await drain()
    assert db["accounts"].find_one({"_id": ObjectId(alice.id)})["role"] == "admin"
    await grant(settings, "alice", "user")
    await call(client, "GET", "/admin/audit", alice, 403)


# --- reports -----------------------------------------------------------------------------------

async def test_reports_one_open_per_reporter_and_target(client, settings, r):
    modo, alice, bobby = await staff_and_people(client, settings, "alice", "bobby")
    pid = (await post(client, bobby, post="buy now"))["_id"]
    filed = (await report(client, alice, "post", pid, comment="spam link"))["report"]
    assert (filed["status"], filed["targetUserId"], filed["reporterId"]) == ("open", bobby.id, alice.id)
    before = redis_state(r)
    again = await report(client, alice, "post", pid, 409, category="abuse")
    assert again["message"] == "You have already reported this" and redis_state(r) == before
    await report(client, modo, "post", pid)  # another reporter may
    await call(client, "PUT", f"/admin/reports/{filed['_id']}", modo, json={"action": "resolve", "note": "ok"})
    await report(client, alice, "post", pid)  # resolved: a new one may be filed
    await call(client, "PUT", f"/admin/reports/{filed['_id']}", modo, 409, json={"action": "reopen"})


async def test_what_may_be_reported(client, settings, sockets):
    modo, alice, bobby, carol = await staff_and_people(client, settings, "alice", "bobby", "carol")
    private = (await post(client, bobby, post="mine", privacy="Private"))["_id"]
    await report(client, alice, "post", private, 404)
    mine = (await post(client, alice, post="mine"))["_id"]
    assert (await report(client, alice, "post", mine, 400))["message"] == "You cannot report yourself"
    assert (await report(client, alice, "user", alice.id, 400))["message"] == "You cannot report yourself"
    await report(client, alice, "user", str(ObjectId()), 404)
    await report(client, alice, "user", bobby.id)
    await call(client, "PUT", f"/user/block/{alice.id}", carol)
    await report(client, alice, "user", carol.id, 404)  # as their profile: not across a block
    public = (await post(client, bobby, post="hello"))["_id"]
    said = await comment(client, bobby, public, bobby.id, "rude")
    await report(client, alice, "comment", said["_id"])
    await report(client, alice, "comment", str(ObjectId()), 404)
    await call(client, "POST", "/chat/message", bobby, json={
        "receiverId": alice.id, "receiverUsername": alice.name, "receiverAvatarColor": "#f00",
        "receiverProfilePicture": "http://localhost/media/x.png", "body": "rude"})
    messages = (await call(client, "GET", f"/chat/message/user/{bobby.id}", alice))["messages"]
    message_id = messages[0]["_id"]
    assert (await report(client, carol, "message", message_id, 404))["message"] == "Message not found"
    filed = (await report(client, alice, "message", message_id))["report"]
    assert filed["targetUserId"] == bobby.id


@pytest.mark.parametrize("body, message", [
    ({"targetType": "story", "targetId": "{id}", "category": "spam"}, "Invalid target type"),
    ({"targetType": "post", "targetId": "{ID}", "category": "spam"}, "Invalid target id"),
    ({"targetType": "post", "targetId": "{id}", "category": "rude"}, "Invalid category"),
    ({"targetType": "post", "targetId": "{id}"}, '"category" is required'),
    ({"targetType": "post", "targetId": "{id}", "category": "spam", "comment": "x" * 1001}, "Comment is too long"),
    ({"targetType": "post", "targetId": ["{id}"], "category": "spam"}, '"targetId" must be a string'),
])
async def test_bad_reports_are_400s_that_change_nothing(client, r, body, message):
    alice, bobby = await users(client, "alice", "bobby")
    pid = (await post(client, bobby, post="x"))["_id"]
    fill = lambda v: v.replace("{id}", pid).replace("{ID}", pid.upper()) if isinstance(v, str) else (
        [fill(i) for i in v] if isinstance(v, list) else v)
    before = redis_state(r)
    answer = await call(client, "POST", "/reports", alice, 400, json={k: fill(v) for k, v in body.items()})
    assert answer["message"] == message
    assert redis_state(r) == before


async def test_reports_are_rate_limited(aiohttp_client, settings):
    client = await aiohttp_client(create_app(settings.with_(report_rate_limit=5)))
    alice, *others = await users(client, "alice", *(f"other{n}" for n in range(6)))
    for other in others[:5]:
        await report(client, alice, "user", other.id)
    answer = await report(client, alice, "user", others[5].id, 429)
    assert answer["message"] == "Too many requests. Please try again later."


async def test_the_queue_in_cursor_pages(client, settings, drain, db):
    modo, alice, *targets = await staff_and_people(client, settings, "alice", "target1", "target2", "target3")
    filed = [(await report(client, alice, "user", t.id))["report"]["_id"] for t in targets]
    response = await client.get(API + "/admin/reports?limit=2", headers=modo.h)
    first = await response.json()
    assert [x["_id"] for x in first["reports"]] == filed[::-1][:2]
    link = response.headers["Link"]
    assert f"max_id={filed[1]}" in link and 'rel="next"' in link and f"min_id={filed[2]}" in link
    assert link.startswith(f"<{settings.api_url}/api/v1/admin/reports?")
    second = await (await client.get(next_page(response), headers=modo.h)).json()
    assert [x["_id"] for x in second["reports"]] == [filed[0]]
    newer = await call(client, "GET", f"/admin/reports?min_id={filed[0]}&limit=1", modo)
    assert [x["_id"] for x in newer["reports"]] == [filed[1]]
    for bad in ("limit=0", "limit=x", "limit=٣", f"max_id={filed[0].upper()}", "status=closed"):
        await call(client, "GET", f"/admin/reports?{bad}", modo, 400)

    await call(client, "PUT", f"/admin/reports/{filed[0]}", modo, json={"action": "assign", "note": "mine"})
    done = (await call(client, "PUT", f"/admin/reports/{filed[0]}", modo, json={"action": "resolve", "note": "fine"}))
    assert (done["report"]["status"], done["report"]["assignedTo"]) == ("resolved", modo.id)
    assert [n["action"] for n in done["report"]["notes"]] == ["assign", "resolve"]
    opened = await call(client, "GET", "/admin/reports", modo)
    resolved = await call(client, "GET", "/admin/reports?status=resolved", modo)
    assert [x["_id"] for x in opened["reports"]] == filed[:0:-1] and [x["_id"] for x in resolved["reports"]] == [filed[0]]
    await call(client, "PUT", f"/admin/reports/{filed[0]}", modo, json={"action": "reopen"})
    assert len((await call(client, "GET", "/admin/reports", modo))["reports"]) == 3
    await call(client, "PUT", f"/admin/reports/{str(ObjectId())}", modo, 404, json={"action": "resolve"})
    await call(client, "PUT", f"/admin/reports/{filed[0]}", modo, 400, json={"action": "close"})
    await drain()
    stored = db["reports"].find_one({"_id": ObjectId(filed[0])})
    assert stored["status"] == "open" and len(stored["notes"]) == 3


# --- takedowns ---------------------------------------------------------------------------------

async def test_a_post_taken_down_disappears_for_everyone_but_its_author(client, settings, sockets):
    modo, bobby, carol = await staff_and_people(client, settings, "bobby", "carol")
    pid = (await post(client, bobby, post="bad"))["_id"]
    other = (await post(client, bobby, post="fine"))["_id"]
    said = await comment(client, carol, pid, bobby.id)
    before_total = (await feed(client, carol))["totalPosts"]
    url = f"http://127.0.0.1:{client.server.port}"
    carol_sock = await sockets(url, token=carol.token, user_id=carol.id)
    bobby_sock = await sockets(url, token=bobby.token, user_id=bobby.id)
    await call(client, "POST", f"/admin/posts/{pid}/takedown", modo, json={"reason": "spam"})
    assert await carol_sock.wait_for("delete post", lambda data: data == pid) == pid

    assert await feed_ids(client, carol) == [other]
    assert (await feed(client, carol))["totalPosts"] == before_total - 1
    for path in (f"/post/comments/{pid}", f"/post/reactions/{pid}", f"/post/commentsnames/{pid}",
                 f"/post/single/comment/{pid}/{said['_id']}"):
        await call(client, "GET", path, carol, 404)
    await call(client, "POST", "/post/comment", carol, 404, json={"userTo": bobby.id, "postId": pid, "comment": "x"})
    assert await feed_ids(client, modo, "all") == [other], "moderators read feeds as anyone does"
    mine = (await feed(client, bobby))["posts"]
    assert [(p["_id"], p.get("takenDown")) for p in mine] == [(other, None), (pid, True)]
    assert (await feed(client, bobby))["totalPosts"] == before_total
    await comment(client, bobby, pid, bobby.id, "only I see this")
    await settle(settings, carol_sock, bobby_sock)
    assert "only I see this" not in [c["comment"] for c in carol_sock.received("update comment")]
    assert "only I see this" in [c["comment"] for c in bobby_sock.received("update comment")]

    await call(client, "POST", f"/admin/posts/{pid}/restore", modo)
    assert await feed_ids(client, carol) == [other, pid]
    await call(client, "GET", f"/post/comments/{pid}", carol)
    await call(client, "POST", f"/admin/posts/{str(ObjectId())}/takedown", modo, 404)
    await call(client, "POST", f"/admin/posts/{pid.upper()}/takedown", modo, 400)


async def test_a_comment_taken_down_leaves_every_list_and_count(client, settings):
    modo, bobby, carol = await staff_and_people(client, settings, "bobby", "carol")
    pid = (await post(client, bobby, post="hello"))["_id"]
    bad = await comment(client, carol, pid, bobby.id, "rude")
    await comment(client, bobby, pid, bobby.id, "thanks")
    await call(client, "POST", f"/admin/comments/{bad['_id']}/takedown", modo, json={"reason": "abuse"})
    seen = (await call(client, "GET", f"/post/comments/{pid}", bobby))["comments"]
    assert [c["comment"] for c in seen] == ["thanks"]
    names = await call(client, "GET", f"/post/commentsnames/{pid}", bobby)
    assert names["comments"]["count"] == 1 and names["comments"]["names"] == [bobby.name]
    assert await comments_count(client, bobby) == 1
    await call(client, "GET", f"/post/single/comment/{pid}/{bad['_id']}", bobby, 404)
    own = (await call(client, "GET", f"/post/comments/{pid}", carol))["comments"]
    assert sorted((c["comment"], c.get("takenDown")) for c in own) == [("rude", True), ("thanks", None)], \
        "its author still sees it, marked"
    await call(client, "POST", f"/admin/comments/{bad['_id']}/takedown", modo)  # again: nothing moves
    assert await comments_count(client, bobby) == 1
    await call(client, "POST", f"/admin/comments/{bad['_id']}/restore", modo)
    assert await comments_count(client, bobby) == 2


async def test_a_comment_taken_down_stays_its_authors_alone(client, settings, sockets):
    modo, bobby, carol = await staff_and_people(client, settings, "bobby", "carol")
    pid = (await post(client, bobby, post="hello"))["_id"]
    bad = await comment(client, carol, pid, bobby.id, "rude")
    await call(client, "POST", f"/admin/comments/{bad['_id']}/takedown", modo)
    url = f"http://127.0.0.1:{client.server.port}"
    bobby_sock = await sockets(url, token=bobby.token, user_id=bobby.id)
    carol_sock = await sockets(url, token=carol.token, user_id=carol.id)
    await call(client, "PUT", f"/post/comment/{pid}/{bad['_id']}", carol, json={"comment": "ruder"})
    await settle(settings, bobby_sock, carol_sock)
    assert bobby_sock.received("update comment") == [], "an edit of a comment taken down reaches no one else"
    assert [c["comment"] for c in carol_sock.received("update comment")] == ["ruder"]
    await call(client, "DELETE", f"/post/comment/{pid}/{bad['_id']}", carol)
    assert await comments_count(client, bobby) == 0, "it had left the count already: not taken off twice"


# --- account actions -----------------------------------------------------------------------------

async def test_a_warning_is_a_notification_and_an_e_mail(client, settings, drain):
    modo, bobby = await staff_and_people(client, settings, "bobby")
    filed = (await report(client, modo, "user", bobby.id))["report"]
    done = await act(client, modo, bobby, "warn", reportId=filed["_id"])
    assert done == {"message": "Action taken", "userId": bobby.id, "state": "active", "action": "warn"}
    await drain()
    notes = (await call(client, "GET", "/notifications", bobby))["notifications"]
    assert [(n["notificationType"], n["userFrom"]["username"]) for n in notes] == [("moderation", bobby.name)], \
        "from the moderators, not from one of them"
    assert "rules" in notes[0]["message"] and modo.id not in str(notes)
    mails = [m for m in read_outbox(settings.outbox_dir) if m["to"] == "bobby@example.com"]
    assert len(mails) == 1 and "warned" in mails[0]["html"] and "rules" in mails[0]["html"]
    resolved = await call(client, "GET", "/admin/reports?status=resolved", modo)
    assert [x["_id"] for x in resolved["reports"]] == [filed["_id"]]


async def test_a_limited_account_reaches_only_its_followers(client, settings):
    modo, bobby, carol, dave = await staff_and_people(client, settings, "bobby", "carol", "dave")
    await follow(client, dave, bobby)
    pid = (await post(client, bobby, post="hi all"))["_id"]
    await act(client, modo, bobby, "limit")
    assert pid not in await feed_ids(client, carol)
    await call(client, "GET", f"/post/reactions/{pid}", carol, 404)
    await call(client, "GET", f"/post/reactions/{pid}", dave)
    assert pid in await feed_ids(client, dave) and pid in await feed_ids(client, bobby)
    assert (await feed(client, carol))["totalPosts"] == 0 and (await feed(client, dave))["totalPosts"] == 1
    await act(client, modo, bobby, "unsuspend")
    assert pid in await feed_ids(client, carol)


async def test_a_limit_after_a_stranger_reacted_and_commented_stops_them_there(client, settings, r):
    """The API remembers a post's author after a reaction or comment (to read "is the author
    limited" with the post); a limit that comes later must still stop a stranger, and only them."""
    modo, bobby, carol, dave = await staff_and_people(client, settings, "bobby", "carol", "dave")
    await follow(client, dave, bobby)
    pid = (await post(client, bobby, post="hi all"))["_id"]
    react = {"userTo": bobby.id, "postId": pid, "type": "like"}
    await call(client, "POST", "/post/reaction", carol, json=react)
    await comment(client, carol, pid, bobby.id)
    await act(client, modo, bobby, "limit")
    before = redis_state(r)
    for method, path, body in (("POST", "/post/reaction", {**react, "type": "love"}),
                               ("POST", "/post/comment", {"userTo": bobby.id, "postId": pid, "comment": "again"})):
        answer = await call(client, method, path, carol, 404, json=body)
        assert answer == {"message": "Post not found", "statusCode": 404, "status": "error"}
    assert redis_state(r) == before
    await call(client, "POST", "/post/reaction", dave, json=react)
    await comment(client, dave, pid, bobby.id)
    await act(client, modo, bobby, "unsuspend")
    await call(client, "POST", "/post/reaction", carol, json={**react, "type": "love"})
    counts = (await feed(client, dave))["posts"][0]
    assert counts["reactions"]["love"] == 1 and counts["reactions"]["like"] == 1 and counts["commentsCount"] == 2
    await act(client, modo, bobby, "suspend")
    answer = await call(client, "POST", "/post/reaction", carol, 403, json=react)
    assert answer["message"] == "You cannot interact with this post", "nobody reaches a suspended author's post"


async def test_a_posts_reactions_and_comments_leave_out_exactly_whom_the_reader_must_not_see(client, settings):
    """Lists ask about their own authors only (graph.hidden_among): blocked either way and
    suspended users are left out, everyone else stays, the reader's own included."""
    modo, bobby, carol, dave, erin, fred, gina = await staff_and_people(
        client, settings, "bobby", "carol", "dave", "erin", "fredo", "ginas")
    pid = (await post(client, bobby, post="hi all"))["_id"]
    for who in (bobby, carol, dave, erin, fred, gina):
        await call(client, "POST", "/post/reaction", who, json={"userTo": bobby.id, "postId": pid, "type": "like"})
        await comment(client, who, pid, bobby.id, f"from {who.name}")
    await block(client, dave, carol)
    await block(client, carol, erin)
    await act(client, modo, fred, "suspend")
    seen = {bobby.name, carol.name, gina.name}
    reactions = (await call(client, "GET", f"/post/reactions/{pid}", carol))["reactions"]
    assert {x["username"] for x in reactions} == seen
    comments = (await call(client, "GET", f"/post/comments/{pid}", carol))["comments"]
    assert {x["username"] for x in comments} == seen
    for who, count in ((dave, 0), (erin, 0), (fred, 0), (gina, 1)):
        single = await call(client, "GET", f"/post/single/reaction/username/{who.name}/{pid}", carol)
        assert single["count"] == count and bool(single["reactions"]) == bool(count), who.name
    assert len((await call(client, "GET", f"/post/reactions/{pid}", gina))["reactions"]) == 5, "only fred is gone"


async def test_feed_totals_follow_suspensions_limits_and_takedowns(client, settings, r):
    """totalPosts subtracts the suspended and the limited users' Public posts as summed in
    posts:sums, which every change of them makes counted again."""
    modo, bobby, carol, dave = await staff_and_people(client, settings, "bobby", "carol", "dave")
    await follow(client, dave, bobby)
    b1 = (await post(client, bobby, post="one"))["_id"]
    await post(client, bobby, post="two")
    await post(client, carol, post="carol's")

    async def totals() -> tuple[int, int]:
        return (await feed(client, carol))["totalPosts"], (await feed(client, dave))["totalPosts"]

    assert await totals() == (3, 3)
    await act(client, modo, bobby, "suspend")
    assert await totals() == (1, 1)
    await act(client, modo, bobby, "unsuspend")
    assert await totals() == (3, 3)
    await act(client, modo, bobby, "limit")
    assert await totals() == (1, 3), "a limited user's Public posts: their followers'"
    await call(client, "POST", f"/admin/posts/{b1}/takedown", modo, json={"reason": "rules"})
    assert r.exists("posts:sums") == 0, "a limited author's post changed: counted again when next needed"
    assert await totals() == (1, 2)
    await act(client, modo, bobby, "unsuspend")
    assert await totals() == (2, 2)


async def test_freeze_ends_sessions_and_sign_in_but_keeps_the_data(client, settings, sockets):
    modo, bobby, carol = await staff_and_people(client, settings, "bobby", "carol")
    pid = (await post(client, bobby, post="still here"))["_id"]
    sock = await sockets(f"http://127.0.0.1:{client.server.port}", token=bobby.token, user_id=bobby.id)
    await act(client, modo, bobby, "freeze")
    await call(client, "GET", "/user/profile", bobby, 401)
    await until_disconnected(sock)
    answer = await call(client, "POST", "/signin", None, 403, json={"username": "bobby", "password": "secret1"})
    assert answer["message"] == "Your account is frozen"
    assert pid in await feed_ids(client, carol)
    await act(client, modo, bobby, "unsuspend")
    await call(client, "POST", "/signin", None, json={"username": "bobby", "password": "secret1"})


async def test_a_suspended_account_disappears_for_everyone_else(client, settings, drain):
    modo, bobby, carol = await staff_and_people(client, settings, "bobby", "carol")
    pid = (await post(client, bobby, post="gone soon"))["_id"]
    cpid = (await post(client, carol, post="carol's"))["_id"]
    await comment(client, bobby, cpid, carol.id, "bobby was here")
    await act(client, modo, bobby, "suspend")
    await call(client, "GET", "/user/profile", bobby, 401)
    await call(client, "GET", f"/user/profile/{bobby.id}", carol, 404)
    await call(client, "PUT", f"/user/follow/{bobby.id}", carol, 404)
    assert (await call(client, "GET", "/user/following", carol))["following"] == [], "nobody follows who is not there"
    assert await feed_ids(client, carol) == [cpid]
    await call(client, "GET", f"/post/reactions/{pid}", carol, 404)
    assert (await call(client, "GET", f"/post/comments/{cpid}", carol))["comments"] == []
    answer = await call(client, "POST", "/signin", None, 403, json={"username": "bobby", "password": "secret1"})
    assert answer["message"] == "Your account is suspended"
    await drain()
    assert [m for m in read_outbox(settings.outbox_dir) if "suspended" in m["html"]]
    await grant(settings, "bobby", "moderator")
    assert await feed_ids(client, carol) == [cpid], "a role change leaves the suspension in force"
    await grant(settings, "bobby", "user")
    await act(client, modo, bobby, "unsuspend")
    assert await feed_ids(client, carol) == [cpid, pid]
    await call(client, "GET", f"/user/profile/{bobby.id}", carol)
    await call(client, "PUT", f"/user/follow/{bobby.id}", carol)


async def test_who_may_act_on_whom(client, settings):
    modo, boss, bobby = await staff_and_people(client, settings, "boss", "bobby")
    await grant(settings, "boss", "admin")
    assert (await act(client, modo, modo, "warn", 400))["message"] == "You cannot act on your own account"
    await act(client, modo, boss, "suspend", 403)
    await act(client, boss, modo, "warn")
    await act(client, modo, User(str(ObjectId()), "x", "", ""), "warn", 404)
    other = (await report(client, modo, "user", boss.id))["report"]
    answer = await act(client, modo, bobby, "warn", 400, reportId=other["_id"])
    assert answer["message"] == "That report is not about this account"
    for body in ({"type": "ban"}, {"type": "warn", "reportId": "X" * 24}, {"type": "warn", "reason": "x" * 1001}):
        await call(client, "POST", f"/admin/accounts/{bobby.id}/action", modo, 400, json=body)


async def test_the_audit_log_records_every_staff_action(client, settings, drain, db):
    modo, bobby = await staff_and_people(client, settings, "bobby")
    pid = (await post(client, bobby, post="x"))["_id"]
    await call(client, "POST", f"/admin/posts/{pid}/takedown", modo, json={"reason": "spam"})
    await call(client, "POST", f"/admin/posts/{pid}/restore", modo)
    await act(client, modo, bobby, "limit")
    response = await client.get(API + "/admin/audit?limit=2", headers=modo.h)
    page = (await response.json())["audit"]
    assert [(e["action"], e["actorId"], e["targetId"]) for e in page] == [
        ("account.limit", modo.id, bobby.id), ("post.restore", modo.id, pid)]
    older = await (await client.get(next_page(response), headers=modo.h)).json()
    assert [e["action"] for e in older["audit"]] == ["post.takedown", "role.moderator"]
    await drain()
    assert db["audit"].count_documents({}) == 4


async def test_moderation_holds_after_redis_is_lost(client, settings, r, drain):
    """Takedowns, suspensions and limits come back with the indexes rebuilt from MongoDB, and
    hold too while another instance rebuilds (pages then come from MongoDB)."""
    modo, bobby, sammy, limit, carol, fanny = await staff_and_people(client, settings, "bobby", "sammy", "limit",
                                                                      "carol", "fanny")
    await follow(client, fanny, limit)
    down = (await post(client, bobby, post="taken down"))["_id"]
    kept = (await post(client, bobby, post="kept"))["_id"]
    await post(client, sammy, post="suspended")
    limited = (await post(client, limit, post="for followers now"))["_id"]
    await call(client, "POST", f"/admin/posts/{down}/takedown", modo)
    await act(client, modo, sammy, "suspend")
    await act(client, modo, limit, "limit")

    async def pages() -> list:
        return [((await feed(client, who))["totalPosts"], await feed_ids(client, who)) for who in (carol, fanny, bobby)]

    before = await pages()
    assert before == [(1, [kept]), (2, [limited, kept]), (2, [kept, down])]
    await drain()
    r.flushdb()
    r.set("rebuild:posts", "another instance", px=60_000)
    assert await pages() == before, "from MongoDB, while the posts are rebuilt elsewhere"
    r.delete("rebuild:posts")
    await pages()  # starts the rebuild here
    await until(lambda: r.exists("complete:posts"), "the posts are listed again")
    assert r.hget("posts:audience", down) == f"{bobby.id}:Removed".encode()
    assert await pages() == before, "from the rebuilt indexes"
