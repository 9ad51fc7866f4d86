"""What the `feed` jobs do (workers.feeds runs them with the API's app): fan-out in batches,
a follow's merge, an unfollow's unmerge, building a feed, dropping idle feeds.

Fan-out is coalesced (timelines.cache.fan_out): one drain job takes the posts' entries in
order, TAKE at a time, and fans each post out; posts with a large following cut it into
batches of FANOUT_BATCH by follow time, enqueue one job for each batch but the first, and do
the first themselves (the author's own feed with it). Every step is idempotent (adding an
entry twice, removing one that is gone), so a take given back and RQ's retries are safe.
One RQ job per post cost the workers ~1.4 ms of CPU per post in RQ's own bookkeeping, thirteen
times what persisting it costs (bench, keeping up).
"""
from __future__ import annotations

import asyncio
import logging
import os
import time

import orjson
from aiohttp import web

import queues
from mysocial.core import functions, indexes
from mysocial.core.appkeys import BATCH, JOBS, SETTINGS
from mysocial.core.functions import Refused
from mysocial.core.reads import read_one
from mysocial.graph import cache as graph
from mysocial.moderation import cache as moderation
from mysocial.posts import cache as posts
from mysocial.timelines import cache

log = logging.getLogger("mysocial.feeds")

FANOUT = "workers.feeds.fanout"
FOREVER = 1e18  # ms: nobody was active since then
TAKE = 200  # entries per take
MAX_TAKES = 25  # per drain job: a job stays well inside its timeout; a new one takes the rest
STALE_S = 2 * queues.JOB_TIMEOUT  # a take held longer: its job died, the entries go back


async def drain(app: web.Application) -> int:
    """Fan out the posts waiting in `feed:fanout`; how many entries it took.

    The waiting mark goes first, so a post from then on enqueues another job. Each take is held
    in `feed:fanout:taken` until its posts are fanned out. A post whose fan-out fails becomes a
    job of its own (`workers.feeds.fanout`: RQ retries it, and shows it among the failed if it
    keeps failing), so one bad post never holds up the others; a job interrupted gives its take
    back to the list's head, and one that dies holds it until it is STALE_S old, when the next
    take gives it back (a drain job runs every minute, whatever is posted). Within a take each
    post's entries run in their order; two drain jobs may run at once (a feed entry need only be
    present: what a page shows is decided when it is read)."""
    await app[JOBS].run(lambda pipe: pipe.delete(cache.FANOUT_WAITING))
    taken = 0
    for _ in range(MAX_TAKES):
        take = os.urandom(8).hex()
        [entries] = await app[JOBS].run(lambda pipe: functions.call(
            pipe, "queue_take", [cache.FANOUT_PENDING, cache.FANOUT_TAKEN],
            {"id": take, "n": TAKE, "now": time.time(), "stale": STALE_S}))
        if not entries:
            return taken
        try:
            failed = await _fan_out_all(app, [orjson.loads(entry) for entry in entries])
            await app[JOBS].transaction(lambda pipe: _done(pipe, take, failed))
        except BaseException:
            await app[JOBS].run(lambda pipe: functions.call(
                pipe, "queue_give_back", [cache.FANOUT_PENDING, cache.FANOUT_TAKEN], {"id": take}))
            raise
        taken += len(entries)
    await app[JOBS].transaction(lambda pipe: queues.signal_in_order(
        pipe, cache.QUEUE, cache.FANOUT_DRAIN, cache.FANOUT_PENDING, cache.FANOUT_WAITING, []))
    return taken


def _done(pipe, take: str, failed: list[list]) -> None:
    for entry in failed:
        queues.add_job(pipe, cache.QUEUE, FANOUT, *entry)
    pipe.hdel(cache.FANOUT_TAKEN, take)


async def _fan_out_all(app: web.Application, entries: list[list]) -> list[list]:
    """Every post's entries in their order, the posts together (their round trips shared); the
    entries left of the posts whose fan-out failed (from the one that failed on)."""
    by_post: dict[str, list] = {}
    for post_id, *rest in entries:
        by_post.setdefault(post_id, []).append(rest)

    async def one(post_id: str, ops: list) -> list[list]:
        for n, (author, score, op) in enumerate(ops):
            try:
                await fan_out(app, post_id, author, score, op)
            except Exception:
                log.exception("the fan-out of post %s failed; it goes on as a job of its own", post_id)
                return [[post_id, *rest] for rest in ops[n:]]
        return []

    return [entry for left in await asyncio.gather(*(one(p, ops) for p, ops in by_post.items())) for entry in left]


async def fan_out(app: web.Application, post_id: str, author: str, score: float, op: str,
                  batch: tuple[float | None, float | None] | None = None) -> int:
    """Fan the post out (`op` add or remove) to the followers of one batch (follow times from
    `batch[0]` to before `batch[1]`); without `batch`, plan the batches first. Returns how many
    followers this job covered."""
    first = batch is None
    batches = [(None, None)]
    if first:
        edges = [None, *await graph.follower_bounds(app, author, app[SETTINGS].fanout_batch), None]
        batches = list(zip(edges, edges[1:]))
    followers = await graph.followers_within(app, author, *batches[0] if first else batch)
    users = [author, *followers] if first else followers
    if op == "add":
        now_ms = time.time() * 1000
        await app[BATCH].run(lambda pipe: cache.add(pipe, app, users, post_id, score, now_ms))
    else:
        await app[BATCH].run(lambda pipe: cache.remove(pipe, users, post_id))
    if len(batches) > 1:  # once the first batch is done: a retry of this job enqueues them once
        await app[JOBS].transaction(lambda pipe: [
            queues.add_job(pipe, cache.QUEUE, FANOUT, post_id, author, score, op, list(b)) for b in batches[1:]])
    return len(followers)


async def merge(app: web.Application, follower: str, followee: str) -> None:
    """A follow: the followee's newest posts into the follower's feed (if built), once the
    follow still stands."""
    if await graph.is_following(app, follower, followee):
        await _run(app, lambda pipe: cache.merge(pipe, app, follower, [followee]))


async def unmerge(app: web.Application, follower: str, followee: str) -> None:
    """An unfollow or a block: the followee's posts out of the follower's feed, unless followed
    again by then (the library checks, in the same call)."""
    await graph.ready(app, follower)
    await app[BATCH].run(lambda pipe: cache.unmerge(pipe, follower, followee))


async def rebuild(app: web.Application, user_id: str) -> None:
    """Build the user's feed from their own and their followees' lists (unless built, or being
    built elsewhere); refused while the posts lists are being rebuilt (RQ retries it)."""
    if not await read_one(app, indexes.is_complete(posts.INDEX)):
        raise RuntimeError("the posts lists are being rebuilt: the feed is built once they are")
    await indexes.ensure(app, cache.home_index(user_id))
    await app[BATCH].run(lambda pipe: pipe.delete(cache.queued_key(user_id)))


async def drop_idle(app: web.Application, batch: int = 1000) -> int:
    """Drop the feeds of users idle longer than FEED_ACTIVE_DAYS, and of suspended users (who
    cannot sign in). Returns how many."""
    before = cache.idle_before(app, time.time() * 1000)
    dropped = 0
    while users := await cache.idle_users(app, before, batch):
        results = await app[BATCH].run(lambda pipe: [cache.drop(pipe, u, before) for u in users])
        dropped += sum(1 for r in results if r == 1)
    suspended = sorted(await read_one(app, moderation.in_state("suspended")))
    for i in range(0, len(suspended), batch):
        part = suspended[i:i + batch]
        results = await app[BATCH].run(lambda pipe: [cache.drop(pipe, u, FOREVER) for u in part])
        dropped += sum(1 for r in results if r == 1)
    return dropped


async def _run(app: web.Application, queue) -> None:
    """One library call; a refusal (the posts lists are being rebuilt) fails the job, to be retried."""
    [answer] = await app[BATCH].run(queue)
    if isinstance(answer, Refused):
        raise RuntimeError(f"refused: {answer}")
