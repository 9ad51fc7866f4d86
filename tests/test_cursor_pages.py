"""Cursor pages (Mastodon's max_id / since_id / min_id / limit and Link header) on the other lists:
notifications, followers and following, comments, reactions, chat messages — each walked the
way a Mastodon client does, by following `rel="next"`."""
from __future__ import annotations

import re

from bson import ObjectId

from tests.conftest import redis_state
from tests.posts_helpers import API, call, follow, post, users

LINK = re.compile(r'<([^>]+)>; rel="(next|prev)"')


async def walk(client, user, path: str, key: str, limit: int = 2) -> list[str]:
    """Every item of a list, page by page through the Link header's next URL."""
    seen, url = [], f"{API}{path}?limit={limit}"
    while url:
        response = await client.get(url, headers=user.h)
        body = await response.json()
        assert response.status == 200, body
        ids = [item["_id"] for item in body[key]]
        assert len(ids) <= limit
        seen += ids
        links = dict((rel, target) for target, rel in LINK.findall(response.headers.get("Link", "")))
        assert links or not ids, "a Link header with every page that has items"
        url = links["next"].removeprefix("http://localhost") if links else None  # a page filtered empty goes on
    return seen


async def test_notifications_comments_reactions_pages(client, drain):
    author, *others = await users(client, "author", "fan1", "fan2", "fan3", "fan4", "fan5")
    target = (await post(client, author, post="talk to me"))["_id"]
    for fan in others:
        await call(client, "POST", "/post/comment", fan, json={"userTo": author.id, "postId": target, "comment": "hi"})
        await call(client, "POST", "/post/reaction", fan, json={
            "userTo": author.id, "postId": target, "type": "like", "profilePicture": "", "previousReaction": "",
            "postReactions": {}})
    await drain()
    comments = [c["_id"] for c in (await call(client, "GET", f"/post/comments/{target}", author))["comments"]]
    assert await walk(client, author, f"/posts/{target}/comments", "comments") == comments and len(comments) == 5
    reactions = [r["_id"] for r in (await call(client, "GET", f"/post/reactions/{target}", author))["reactions"]]
    assert await walk(client, author, f"/posts/{target}/reactions", "reactions") == reactions and len(reactions) == 5
    notes = [n["_id"] for n in (await call(client, "GET", "/notifications", author))["notifications"]]
    assert await walk(client, author, "/notifications", "notifications", 3) == notes and len(notes) == 10
    newest = await call(client, "GET", "/notifications", author, params={"min_id": notes[2], "limit": 1})
    assert [n["_id"] for n in newest["notifications"]] == [notes[1]]
    await call(client, "PUT", f"/user/block/{others[0].id}", author)
    assert len(await walk(client, author, f"/posts/{target}/comments", "comments")) == 4, "blocked: filtered"
    stranger = ObjectId()
    await call(client, "GET", f"/posts/{stranger}/comments", author, 404)
    await call(client, "GET", f"/posts/{stranger}/reactions", author, 404)


async def test_followers_following_and_messages_pages(client, drain):
    star, *fans = await users(client, "star", "fan1", "fan2", "fan3")
    for fan in fans:
        await follow(client, fan, star)
        await follow(client, star, fan)
    followers = await walk(client, fans[0], f"/accounts/{star.id}/followers", "followers")
    assert followers == [fans[2].id, fans[1].id, fans[0].id], "newest follow first"
    assert await walk(client, fans[0], f"/accounts/{star.id}/following", "following") == followers
    for n in range(5):
        await call(client, "POST", "/chat/message", star, json={
            "receiverId": fans[0].id, "receiverUsername": fans[0].name, "receiverAvatarColor": "#f00",
            "receiverProfilePicture": "http://localhost/media/x.png", "body": f"message {n}"})
    chat = [m["_id"] for m in (await call(client, "GET", f"/chat/message/user/{fans[0].id}", star))["messages"]]
    assert await walk(client, star, f"/conversations/{fans[0].id}/messages", "messages") == chat[::-1]
    assert await walk(client, fans[1], f"/conversations/{fans[0].id}/messages", "messages") == [], \
        "nothing of another pair's conversation"
    await call(client, "PUT", f"/user/block/{fans[1].id}", star)
    await call(client, "GET", f"/accounts/{star.id}/followers", fans[1], 404)


async def test_hostile_cursors_on_every_list_get_400_and_change_nothing(client, r):
    [alice] = await users(client, "alice")
    target = (await post(client, alice, post="x"))["_id"]
    state = redis_state(r)
    paths = ("/notifications", f"/posts/{target}/comments", f"/posts/{target}/reactions",
             f"/accounts/{alice.id}/followers", f"/accounts/{alice.id}/following",
             f"/conversations/{ObjectId()}/messages")
    for path in paths:
        for query in ({"limit": "0"}, {"limit": "41x"}, {"max_id": "'; DROP"}, {"min_id": "a" * 23},
                      {"since_id": "{\"$gt\": \"\"}"}):
            await call(client, "GET", path, alice, 400, params=query)
    for path in ("/posts/nope/comments", "/posts/nope/reactions", "/accounts/nope/followers",
                 "/accounts/nope/following", "/conversations/nope/messages"):
        await call(client, "GET", path, alice, 400)
    assert redis_state(r) == state
