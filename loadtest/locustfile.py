"""A realistic user mix for load tests against any MySocial deployment.

    locust -f loadtest/locustfile.py --host https://api.example.com
    locust -f loadtest/locustfile.py --host http://127.0.0.1:5000 --headless -u 200 -r 10 -t 5m

Each simulated user signs up (a fresh account), signs in, then mostly reads
the feed, and sometimes posts, reacts, comments, chats with people it saw in
the feed, and checks notifications, with a few seconds of think time in
between. locust is not a project dependency: `pip install locust`.

All users come from the load generator's few IP addresses, so the target
needs AUTH_RATE_LIMIT raised (sign-up and sign-in are limited per IP, 10 a
minute by default) and RATE_LIMIT at least the per-user request rate; a 429
on sign-up is retried after its Retry-After.
"""
from __future__ import annotations

import base64
import os
import random
import string
import time

from locust import HttpUser, between, task

API = "/api/v1"
PASSWORD = "secret1"
PNG = "data:image/png;base64," + base64.b64encode(b"\x89PNG\r\n\x1a\nloadtest").decode()
REACTIONS = ("like", "love", "happy", "wow", "sad", "angry")
FEELINGS = ("happy", "love", "wow", "")
WORDS = "the quick brown fox jumps over lazy dog coffee monday weekend photo trip music".split()


def sentence(words: int = 8) -> str:
    return " ".join(random.choice(WORDS) for _ in range(words)).capitalize() + "."


class SocialUser(HttpUser):
    wait_time = between(float(os.environ.get("THINK_MIN", 1)), float(os.environ.get("THINK_MAX", 5)))

    def on_start(self) -> None:
        self.username = "lt" + "".join(random.choices(string.ascii_lowercase + string.digits, k=6))
        self.user: dict = {}
        self.seen: dict[str, dict] = {}  # post id -> post, from the feed
        self.people: dict[str, dict] = {}  # user id -> {username, avatarColor, profilePicture}
        self.conversations: dict[str, str] = {}  # receiver id -> conversation id
        self.auth("/signup", {"username": self.username, "password": PASSWORD, "email": f"{self.username}@load.test",
                              "avatarColor": random.choice(("#f44336", "#3f51b5", "#009688")), "avatarImage": PNG})
        self.auth("/signin", {"username": self.username, "password": PASSWORD})

    def auth(self, path: str, body: dict, attempts: int = 5) -> None:
        for _ in range(attempts):
            with self.client.post(API + path, json=body, name=API + path, catch_response=True) as response:
                if response.status_code == 429:
                    response.success()  # the per-IP limit: wait and try again
                    time.sleep(float(response.headers.get("Retry-After", "5")))
                    continue
                if response.status_code not in (200, 201):
                    response.failure(f"{response.status_code}: {response.text[:200]}")
                    return
                data = response.json()
                self.user = data["user"]
                self.client.headers["Authorization"] = f"Bearer {data['token']}"
                return

    def remember(self, posts: list[dict]) -> None:
        for post in posts:
            self.seen[post["_id"]] = post
            if post["userId"] != self.user.get("_id"):
                self.people[post["userId"]] = {"username": post["username"], "avatarColor": post["avatarColor"],
                                               "profilePicture": post.get("profilePicture", "")}
        while len(self.seen) > 100:
            self.seen.pop(next(iter(self.seen)))

    def a_post(self) -> dict | None:
        return random.choice(list(self.seen.values())) if self.seen else None

    @task(12)
    def read_feed(self) -> None:
        page = random.choice((1, 1, 1, 2, 3))
        with self.client.get(f"{API}/post/all/{page}", name=f"{API}/post/all/[page]", catch_response=True) as r:
            if r.ok:
                self.remember(r.json()["posts"])

    @task(2)
    def current_user(self) -> None:
        self.client.get(f"{API}/currentuser")

    @task(3)
    def create_post(self) -> None:
        with self.client.post(f"{API}/post", json={
            "post": sentence(), "bgColor": random.choice(("#ffffff", "#f0e68c", "")), "privacy": "Public",
            "feelings": random.choice(FEELINGS), "gifUrl": "", "profilePicture": self.user.get("profilePicture", ""),
        }, catch_response=True) as r:
            if r.ok:
                self.remember([r.json()["post"]])

    @task(5)
    def react(self) -> None:
        post = self.a_post()
        if post:
            self.client.post(f"{API}/post/reaction", json={
                "userTo": post["userId"], "postId": post["_id"], "type": random.choice(REACTIONS),
                "profilePicture": self.user.get("profilePicture", ""), "previousReaction": "", "postReactions": {},
            })

    @task(2)
    def comment(self) -> None:
        post = self.a_post()
        if post:
            self.client.post(f"{API}/post/comment", json={
                "userTo": post["userId"], "postId": post["_id"], "comment": sentence(6),
                "profilePicture": self.user.get("profilePicture", ""),
            })

    @task(1)
    def read_comments(self) -> None:
        post = self.a_post()
        if post:
            self.client.get(f"{API}/post/comments/{post['_id']}", name=f"{API}/post/comments/[postId]")

    @task(3)
    def chat(self) -> None:
        if not self.people:
            return
        receiver_id = random.choice(list(self.people))
        person = self.people[receiver_id]
        with self.client.post(f"{API}/chat/message", json={
            "conversationId": self.conversations.get(receiver_id), "receiverId": receiver_id,
            "receiverUsername": person["username"], "receiverAvatarColor": person["avatarColor"],
            "receiverProfilePicture": person["profilePicture"], "body": sentence(5), "gifUrl": "",
            "selectedImage": "", "isRead": False,
        }, catch_response=True) as r:
            if r.ok:
                self.conversations[receiver_id] = r.json()["conversationId"]
            elif r.status_code == 403:
                r.success()  # blocked by the receiver: a correct answer

    @task(1)
    def conversations_list(self) -> None:
        self.client.get(f"{API}/chat/message/conversation-list")

    @task(1)
    def read_chat(self) -> None:
        if self.conversations:
            receiver_id = random.choice(list(self.conversations))
            self.client.get(f"{API}/chat/message/user/{receiver_id}", name=f"{API}/chat/message/user/[receiverId]")

    @task(1)
    def notifications(self) -> None:
        self.client.get(f"{API}/notifications")
