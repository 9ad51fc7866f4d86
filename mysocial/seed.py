"""`mysocial seed`: a realistic data set made through the public API, so every write takes
the same path as a real client's (cache, ledger, persist job, events).

Without `--url` the API runs in this process against the configured Redis and
MongoDB (its rate limits lifted: it is our own instance); workers persist the
data as usual (`mysocial worker`, or the ones `mysocial dev` runs).
"""
from __future__ import annotations

import asyncio
import base64
import random
import sys
from contextlib import asynccontextmanager
from dataclasses import dataclass, field

import aiohttp
from aiohttp import web

from mysocial.config import Settings

WORDS = ("sun rain coffee city river music code garden book night morning friends travel food "
         "mountain sea photo weekend run bike cat dog street idea dream team game film").split()
COLORS = ("#f44336", "#e91e63", "#9c27b0", "#3f51b5", "#2196f3", "#009688", "#4caf50", "#ff9800")
FEELINGS = ("", "like", "love", "happy", "wow", "sad", "angry")
PRIVACY = ("Public",) * 6 + ("Followers",) * 3 + ("Private",)
REACTIONS = ("like", "love", "happy", "wow", "sad", "angry")
PIXEL = "data:image/png;base64," + base64.b64encode(
    bytes.fromhex("89504e470d0a1a0a0000000d4948445200000001000000010806000000"
                  "1f15c4890000000d49444154789c6360000002000154a24f5d0000000049454e44ae426082")).decode()


@dataclass
class Plan:
    users: int = 20
    posts: int = 3
    follows: int = 5
    reactions: int = 40
    comments: int = 30
    messages: int = 30
    seed: int = 1


@dataclass
class Progress:
    total: int
    done: int = 0
    label: str = ""
    width: int = 30
    out: object = field(default=sys.stderr)

    def step(self, label: str) -> None:
        self.done += 1
        filled = int(self.width * self.done / max(self.total, 1))
        self.out.write(f"\r[{'#' * filled}{'.' * (self.width - filled)}] {self.done}/{self.total} {label:<12}")
        if self.done >= self.total:
            self.out.write("\n")
        self.out.flush()


def sentence(rng: random.Random, n: int) -> str:
    return " ".join(rng.choice(WORDS) for _ in range(n)).capitalize() + "."


@asynccontextmanager
async def local_api(settings: Settings):
    from mysocial.app import create_app

    app = create_app(settings.with_(rate_limit=0, auth_rate_limit=0))
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        await runner.cleanup()


async def run(base: str, plan: Plan, out=sys.stderr) -> dict:
    rng = random.Random(plan.seed)
    total = plan.users * (1 + plan.posts + plan.follows) + plan.reactions + plan.comments + plan.messages
    progress = Progress(total, out=out)
    api = base.rstrip("/") + "/api/v1"
    made = {"users": 0, "posts": 0, "follows": 0, "reactions": 0, "comments": 0, "messages": 0}
    async with aiohttp.ClientSession() as http:
        async def call(method: str, path: str, token: str | None = None, **kwargs) -> dict:
            headers = {"Authorization": f"Bearer {token}"} if token else {}
            while True:
                async with http.request(method, api + path, headers=headers, **kwargs) as response:
                    body = await response.json()
                    if response.status == 429:  # a deployment's rate limit: wait as it asks
                        await asyncio.sleep(int(response.headers.get("Retry-After", "1")))
                        continue
                    if response.status >= 400 and response.status != 403:
                        raise RuntimeError(f"{method} {path}: {response.status} {body}")
                    return body if response.status < 400 else {}

        users = []
        tag = f"{rng.randrange(36 ** 3):03x}"
        for n in range(plan.users):
            name = f"u{tag}{n}"[:8]
            body = await call("POST", "/signup", json={
                "username": name, "password": "seed123", "email": f"{name}@seed.example",
                "avatarColor": rng.choice(COLORS), "avatarImage": PIXEL})
            users.append((body["user"], body["token"]))
            made["users"] += 1
            progress.step("users")
        posts = []
        for user, token in users:
            for _ in range(plan.posts):
                await call("POST", "/post", token, json={
                    "post": sentence(rng, rng.randint(4, 14)), "bgColor": rng.choice(COLORS),
                    "feelings": rng.choice(FEELINGS), "privacy": rng.choice(PRIVACY), "gifUrl": "",
                    "profilePicture": user["profilePicture"]})
                made["posts"] += 1
                progress.step("posts")
            for other, _ in rng.sample(users, min(plan.follows, len(users))):
                if other["_id"] != user["_id"]:
                    await call("PUT", f"/user/follow/{other['_id']}", token)
                    made["follows"] += 1
                progress.step("follows")
        for user, token in users:
            page = await call("GET", "/post/all/1", token)
            posts += [(p, token) for p in page.get("posts", [])]
        for _ in range(plan.reactions):
            if posts:
                post, token = rng.choice(posts)
                await call("POST", "/post/reaction", token, json={
                    "userTo": post["userId"], "postId": post["_id"], "type": rng.choice(REACTIONS),
                    "profilePicture": "", "previousReaction": "", "postReactions": {}})
                made["reactions"] += 1
            progress.step("reactions")
        for _ in range(plan.comments):
            if posts:
                post, token = rng.choice(posts)
                await call("POST", "/post/comment", token, json={
                    "userTo": post["userId"], "postId": post["_id"], "comment": sentence(rng, rng.randint(2, 10))})
                made["comments"] += 1
            progress.step("comments")
        for _ in range(plan.messages):
            (sender, token), (receiver, _) = rng.sample(users, 2)
            await call("POST", "/chat/message", token, json={
                "receiverId": receiver["_id"], "receiverUsername": receiver["username"],
                "receiverAvatarColor": receiver["avatarColor"], "receiverProfilePicture": receiver["profilePicture"],
                "body": sentence(rng, rng.randint(2, 12)), "gifUrl": "", "isRead": False, "selectedImage": ""})
            made["messages"] += 1
            progress.step("messages")
    return made


def main(settings: Settings, url: str | None, plan: Plan) -> dict:
    async def go() -> dict:
        if url:
            return await run(url, plan)
        async with local_api(settings) as base:
            return await run(base, plan)

    made = asyncio.run(go())
    print("seeded: " + ", ".join(f"{v} {k}" for k, v in made.items()))
    return made
