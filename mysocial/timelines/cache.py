"""Home feeds in Redis, and cursor pages of any post list for its reader (the library's
timelines.lua).

- `home:<userId>`: sorted set of post ids by creation time (ms), the newest `FEED_CAP` posts of
  the accounts the user follows and the user's own; built while `complete:home:<userId>` exists
  (the index `home:<userId>`, built by a `feed` job from the authors' `posts:user:` lists, and
  filled by fan-out meanwhile). `home:floor:<userId>`: the newest entry ever trimmed; below it,
  pages come from MongoDB.
- Fan-out is coalesced: a post's create or delete appends `[post id, author, score, op]` to
  `feed:fanout` (on the queues' Redis) and enqueues one drain job unless one is waiting
  (`feed:fanout:waiting`); the job takes the entries in order, many at a time, and holds those it
  took in `feed:fanout:taken` until done (mysocial.timelines.fanout.drain).
- A feed is kept only for a user active within FEED_ACTIVE_DAYS (mysocial.sessions' `active`):
  fan-out drops the feed of a follower idle longer, and so does a job every hour.

What a page shows is decided when it is read (privacy, blocks, takedowns, suspensions, who the
reader follows now), so a feed entry never needs to be right, only present: deletes and
unfollows also remove entries, to keep feeds small.
"""
from __future__ import annotations

import orjson
from aiohttp import web

import queues
from mysocial.core import functions, indexes
from mysocial.core.appkeys import BATCH, SETTINGS
from mysocial.core.cache import ms
from mysocial.core.pages import Cursor, place
from mysocial.core.reads import Read, plain
from mysocial.core.redis import prefixed
from mysocial.graph import cache as graph
from mysocial.posts import cache as posts, listing
from mysocial.sessions.cache import ACTIVE

QUEUE = "feed"
FANOUT_PENDING = "feed:fanout"
FANOUT_TAKEN = "feed:fanout:taken"
FANOUT_WAITING = "feed:fanout:waiting"
FANOUT_DRAIN = "workers.feeds.drain"
home_key = prefixed("home:")
floor_key = prefixed("home:floor:")
queued_key = prefixed("queued:home:")  # a build was asked for: one job however many reads, until it ran
QUEUED_S = 60
MERGE_AUTHORS = 100  # authors' lists merged per library call while a feed is built


def home_index(user_id: str) -> indexes.Index:
    """The user's feed, built from the lists of their own posts and of everyone they follow."""
    async def chunks(app: web.Application):
        authors = [user_id, *await graph.following_ids(app, user_id)]
        for i in range(0, len(authors), MERGE_AUTHORS):
            yield lambda pipe, part=authors[i:i + MERGE_AUTHORS]: merge(pipe, app, user_id, part)

    return indexes.Index(f"home:{user_id}", "home", chunks)


def feed_keys(user_id: str) -> list[str]:
    """A feed's keys as the library's home_add takes them: entries, floor, marker, build lock."""
    index = home_index(user_id)
    return [home_key(user_id), floor_key(user_id), index.marker, index.lock]


def merge(pipe, app: web.Application, user_id: str, authors: list[str]) -> None:
    """Queue the merge of these authors' newest posts into the user's feed (if it is built)."""
    keys = feed_keys(user_id)
    functions.call(pipe, "home_merge", [*keys, posts.INDEX.marker, *(posts.by_user(a) for a in authors)],
                   {"cap": app[SETTINGS].feed_cap})


def idle_before(app: web.Application, now_ms: float) -> float:
    """Users not active since then (ms) keep no feed."""
    return now_ms - app[SETTINGS].feed_active_days * 86_400_000


def add(pipe, app: web.Application, followers: list[str], post_id: str, score: float, now_ms: float) -> None:
    """Fan-out: the post into the built feeds of these users; the idle ones' feeds are dropped."""
    keys = [ACTIVE] + [k for user in followers for k in feed_keys(user)]
    functions.call(pipe, "home_add", keys, {"entries": [[repr(score), post_id]], "cap": app[SETTINGS].feed_cap,
                                            "before": idle_before(app, now_ms)})


def remove(pipe, followers: list[str], post_id: str) -> None:
    functions.call(pipe, "home_remove", [home_key(u) for u in followers], {"id": post_id})


def unmerge(pipe, user_id: str, author: str) -> None:
    functions.call(pipe, "home_unmerge", [home_key(user_id), posts.by_user(author), graph.following_key(user_id)],
                   {"author": author})


def drop(pipe, user_id: str, before: float) -> None:
    """Drop the user's feed unless they were active since `before` (ms)."""
    functions.call(pipe, "home_drop", [ACTIVE, home_key(user_id), floor_key(user_id), home_index(user_id).marker],
                   {"user": user_id, "before": before})


async def idle_users(app: web.Application, before: float, limit: int) -> list[str]:
    [found] = await app[BATCH].run(lambda pipe: pipe.zrangebyscore(ACTIVE, "-inf", f"({before}", 0, limit))
    return [m.decode() for m in found]


# --- what the API adds to a write's transaction --------------------------------------


def fan_out(pipe, post: dict, op: str = "add") -> None:
    """The post's fan-out to its author's followers' feeds (`op` add or remove): an entry for the
    coalesced drain job, which splits a large following into batches (mysocial.timelines.fanout)."""
    entry = orjson.dumps([post["_id"], post["userId"], ms(post["createdAt"]), op]).decode()
    queues.signal_in_order(pipe, QUEUE, FANOUT_DRAIN, FANOUT_PENDING, FANOUT_WAITING, [entry])


def followed(pipe, follower: str, followee: str) -> None:
    queues.add_job(pipe, QUEUE, "workers.feeds.merge", follower, followee)


def unfollowed(pipe, follower: str, followee: str) -> None:
    queues.add_job(pipe, QUEUE, "workers.feeds.unmerge", follower, followee)


def rebuild(pipe, user_id: str) -> None:
    queues.add_job(pipe, QUEUE, "workers.feeds.rebuild", user_id)


# --- reads ------------------------------------------------------------------------------

MODES = ("home", "public", "all")


def page(list_key: str, marker: str, floor: str, reader: str, mode: str, at: Cursor) -> Read:
    """One cursor page of `list_key` (complete while `marker` exists; below `floor`, if set, not
    complete) as the reader may see it, looking at no more than listing.SCAN_STEP entries: a `Read`
    of (ids, floor or None, the last entry looked at if that ran out first, else None) or a
    `Refused`."""
    named = {"reader": reader, "mode": mode, "limit": at.limit, "max": at.max_id, "since": at.since_id,
             "min": at.min_id, "max_at": place(at.max_id), "since_at": place(at.since_id or at.min_id),
             "budget": listing.SCAN_STEP}
    keys = [list_key, posts.AUDIENCE, posts.ALL, marker, floor, *graph.reader_keys(reader)]

    def convert(replies: list):
        answer = replies[0]
        if isinstance(answer, functions.Refused):
            return answer
        ids, bottom, cut = answer
        return [i.decode() for i in ids], bottom.decode() if bottom else None, cut.decode() if cut else None

    return plain(lambda pipe: functions.call(pipe, "posts_cursor", keys, named), 1, convert)


def bounds(ids: list[str]) -> Read:
    """The creation times (ms) of these posts as the index has them (None for one not listed)."""
    return plain(lambda pipe: pipe.zmscore(posts.ALL, ids), 1, lambda replies: replies[0])
