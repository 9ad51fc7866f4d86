"""The bench's data and requests: users, posts and conversations made through the API itself.

`setup()` signs users up, has them post and start conversations, and seeds
the baseline list; `requests_for()` gives each measured route a list of
prepared requests, cycling over users (so the rate limiter sees many callers
and each request carries a real JWT, as in production).
"""
from __future__ import annotations

import asyncio
import base64
from dataclasses import dataclass, field

import aiohttp

from bench.load import Request

API = "/api/v1"
PNG = "data:image/png;base64," + base64.b64encode(b"\x89PNG\r\n\x1a\nbench").decode()
REACTIONS = ("like", "love", "happy", "wow", "sad", "angry")
SEEDED_POSTS = 60
SEEDED_ITEMS = 60
VARIANTS = 240  # prepared requests per route (wrk cycles through them)
FOLLOWS = 4


@dataclass
class User:
    id: str
    username: str
    token: str
    picture: str
    color: str

    @property
    def auth(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}"}


@dataclass
class World:
    users: list[User] = field(default_factory=list)
    posts: list[dict] = field(default_factory=list)  # {"_id", "userId"}
    conversations: dict[tuple[str, str], str] = field(default_factory=dict)  # (sender, receiver) -> id


class SetupError(RuntimeError):
    pass


async def call(http: aiohttp.ClientSession, url: str, r: Request, expect: tuple[int, ...] = (200, 201)) -> dict:
    async with http.request(r.method, url + r.path, headers=r.headers, data=r.body or None) as response:
        data = await response.json(content_type=None)
        if response.status not in expect:
            raise SetupError(f"{r.method} {r.path} answered {response.status}: {data}")
        return data


async def signup(http: aiohttp.ClientSession, url: str, n: int) -> User:
    name = f"bench{n:03d}"
    data = await call(http, url, Request.json("POST", f"{API}/signup", {
        "username": name, "password": "secret1", "email": f"{name}@bench.example",
        "avatarColor": "#3366ff", "avatarImage": PNG}))
    user = data["user"]
    return User(user["_id"], user["username"], data["token"], user["profilePicture"], user["avatarColor"])


def post_body(n: int, privacy: str = "Public") -> dict:
    return {"post": f"bench post {n}: the quick brown fox jumps over the lazy dog", "bgColor": "#ffffff",
            "privacy": privacy, "feelings": "happy", "gifUrl": "", "profilePicture": ""}


def message_body(sender: User, receiver: User, n: int, conversation: str | None) -> dict:
    return {"conversationId": conversation, "receiverId": receiver.id, "receiverUsername": receiver.username,
            "receiverAvatarColor": receiver.color, "receiverProfilePicture": receiver.picture,
            "body": f"bench message {n}", "gifUrl": "", "selectedImage": "", "isRead": False}


def create_post(world: World, n: int) -> Request:
    user = world.users[n % len(world.users)]
    return Request.json("POST", f"{API}/post", post_body(n), user.auth)


def partner(world: World, n: int) -> tuple[User, User]:
    users = world.users
    return users[n % len(users)], users[(n + 1) % len(users)]


async def gather_limited(coros, limit: int = 16) -> list:
    gate = asyncio.Semaphore(limit)

    async def run(coro):
        async with gate:
            return await coro

    return await asyncio.gather(*(run(c) for c in coros))


async def setup(url: str, users: int = 16, chat: bool = True) -> World:
    """Users, a feed of posts (a few private, so the feed filters), conversations, baseline items."""
    world = World()
    async with aiohttp.ClientSession() as http:
        world.users = list(await gather_limited(signup(http, url, n) for n in range(users)))
        for n, user in enumerate(world.users):  # each follows the next FOLLOWS users: home feeds to read
            for other in (world.users[(n + k) % users] for k in range(1, min(FOLLOWS, users - 1) + 1)):
                await call(http, url, Request("PUT", f"{API}/user/follow/{other.id}", user.auth), expect=(200, 404))
        for n in range(SEEDED_POSTS):
            user = world.users[n % users]
            privacy = "Private" if n % 7 == 3 else "Public"
            data = await call(http, url, Request.json("POST", f"{API}/post", post_body(n, privacy), user.auth),
                              expect=(201, 404))
            if "post" in data:
                world.posts.append({"_id": data["post"]["_id"], "userId": user.id, "privacy": privacy})
        for n in range(SEEDED_ITEMS):
            await call(http, url, Request.json("POST", "/bench/write", post_body(n), world.users[0].auth))
        for user in world.users:  # the first read of a home timeline asks for the feed to be built
            await call(http, url, Request("GET", f"{API}/timelines/home", user.auth), expect=(200, 404))
        if chat:
            for n in range(users):
                sender, receiver = partner(world, n)
                r = Request.json("POST", f"{API}/chat/message", message_body(sender, receiver, n, None), sender.auth)
                data = await call(http, url, r, expect=(200, 404))
                if "conversationId" in data:
                    world.conversations[(sender.id, receiver.id)] = data["conversationId"]
    return world


async def seed_ceiling(url: str) -> None:
    """The ceiling app's items (bench/bare.py), as many as the app's baseline has."""
    async with aiohttp.ClientSession() as http:
        for n in range(SEEDED_ITEMS):
            await call(http, url, Request.json("POST", "/write", post_body(n)))
        await call(http, url, Request("GET", "/read"))


# The ceiling's routes (bench/bare.py) and the app's baselines (bench/app.py); a POST carries a post body.
BASELINE_PATHS = {
    "ceiling JSON": ("GET", "/json"), "ceiling write": ("POST", "/write"), "ceiling read": ("GET", "/read"),
    "bare JSON": ("GET", "/bench/json"), "minimal write": ("POST", "/bench/write"), "minimal read": ("GET", "/bench/read"),
}


HOME_LIMIT = 10


def requests_for(world: World, route: str) -> list[Request]:
    users = world.users
    auth = [u.auth for u in users]
    public = [p for p in world.posts if p["privacy"] == "Public"]
    out: list[Request] = []
    if route == "add reaction" and len(public) < 5:
        return out
    for n in range(VARIANTS):
        headers = auth[n % len(auth)]
        if route in BASELINE_PATHS:
            method, path = BASELINE_PATHS[route]
            out.append(Request.json(method, path, post_body(n), headers) if method == "POST"
                       else Request(method, path, headers))
        elif route == "create post":
            out.append(create_post(world, n))
        elif route == "add reaction":
            # 5 popular posts; a user's next reaction to a post is always of another type.
            pairs = len(users) * 5
            user, post = users[n % len(users)], public[(n // len(users)) % 5]
            out.append(Request.json("POST", f"{API}/post/reaction", {
                "userTo": post["userId"], "postId": post["_id"], "type": REACTIONS[(n // pairs) % 3],
                "profilePicture": user.picture, "previousReaction": "", "postReactions": {}}, user.auth))
        elif route == "feed page":
            out.append(Request("GET", f"{API}/post/all/1", headers))
        elif route == "home page":  # 10 posts, as the feed page and the ceiling's read (the default is 20)
            out.append(Request("GET", f"{API}/timelines/home?limit={HOME_LIMIT}", headers))
        elif route == "send message":
            sender, receiver = partner(world, n)
            conversation = world.conversations.get((sender.id, receiver.id))
            out.append(Request.json("POST", f"{API}/chat/message", message_body(sender, receiver, n, conversation),
                                    sender.auth))
        elif route == "current user":
            out.append(Request("GET", f"{API}/currentuser", headers))
        else:
            raise ValueError(route)
    return out


async def probe(url: str, r: Request) -> tuple[int, str]:
    """One request before measuring: a route that is missing (404) or failing is reported, not measured."""
    async with aiohttp.ClientSession() as http:
        async with http.request(r.method, url + r.path, headers=r.headers, data=r.body or None) as response:
            return response.status, (await response.text())[:300]
