"""The `feed` queue's jobs: home-feed fan-out (the coalesced drain, and a large following's
batches), merges, builds (mysocial.timelines.fanout), and the scheduled ones: fan-out left behind
by a dead job, idle feeds dropped, trends recomputed (mysocial.timelines.trends)."""
from __future__ import annotations

from mysocial.timelines import fanout as feeds, trends as ranking
from workers import context


def drain() -> int:
    return context.run(feeds.drain(context.app()))


def fanout(post_id: str, author: str, score: float, op: str = "add", batch: list | None = None) -> int:
    return context.run(feeds.fan_out(context.app(), post_id, author, score, op, tuple(batch) if batch else None))


def merge(follower: str, followee: str) -> None:
    context.run(feeds.merge(context.app(), follower, followee))


def unmerge(follower: str, followee: str) -> None:
    context.run(feeds.unmerge(context.app(), follower, followee))


def rebuild(user_id: str) -> None:
    context.run(feeds.rebuild(context.app(), user_id))


def drop_idle() -> int:
    return context.run(feeds.drop_idle(context.app()))


def trends() -> int:
    return context.run(ranking.recompute(context.app()))
