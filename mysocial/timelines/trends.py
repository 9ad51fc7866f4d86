"""Trending posts: Public posts ranked by recent reactions and comments, with a time decay.

- `trends:log`: a stream of interactions (post, user), the newest LOG_MAX kept; a reaction or
  a comment adds one in its own write's transaction.
- `trends:posts`: the ranking, a sorted set of post ids by score, recomputed by a scheduled job
  every minute: each user's latest interaction with a post within WINDOW_MS weighs
  0.5 ** (age / TRENDS_HALF_LIFE), so reacting again or toggling a reaction adds nothing; a post
  with fewer than TRENDS_MIN_INTERACTIONS users interacting does not rank.

Which of them a reader sees is decided when read (the library's posts_cursor, mode `public`):
never a post they may not see.
"""
from __future__ import annotations

import time

from aiohttp import web

from mysocial.core.appkeys import BATCH, SETTINGS

LOG = "trends:log"
RANKED = "trends:posts"
LOG_MAX = 100_000
WINDOW_MS = 24 * 3600 * 1000
KEEP = 200


def interacted(pipe, post_id: str, user_id: str) -> None:
    """Record that `user_id` reacted to or commented on `post_id` (inside that write's transaction)."""
    pipe.xadd(LOG, {"post": post_id, "user": user_id}, maxlen=LOG_MAX, approximate=True)


def rank(entries: list[tuple[float, str, str]], now_ms: float, half_life_s: float, minimum: int) -> list[tuple[str, float]]:
    """(time ms, post, user) interactions -> (post, score), best first."""
    latest: dict[tuple[str, str], float] = {}
    for at, post, user in entries:
        if now_ms - at <= WINDOW_MS and at > latest.get((post, user), -1):
            latest[(post, user)] = at
    scores: dict[str, float] = {}
    counts: dict[str, int] = {}
    for (post, _), at in latest.items():
        scores[post] = scores.get(post, 0.0) + 0.5 ** (max(0.0, now_ms - at) / 1000 / half_life_s)
        counts[post] = counts.get(post, 0) + 1
    ranked = [(post, score) for post, score in scores.items() if counts[post] >= minimum]
    return sorted(ranked, key=lambda e: (e[1], e[0]), reverse=True)


async def recompute(app: web.Application) -> int:
    """The ranking from the log (the scheduled job). Returns how many posts rank."""
    now_ms = time.time() * 1000
    [raw] = await app[BATCH].run(lambda pipe: pipe.xrange(LOG, min=f"{int(now_ms - WINDOW_MS)}-0"))
    entries = [(int(entry_id.split(b"-")[0]), fields[b"post"].decode(), fields[b"user"].decode())
               for entry_id, fields in raw]
    settings = app[SETTINGS]
    ranked = rank(entries, now_ms, settings.trends_half_life, settings.trends_min_interactions)[:KEEP]

    def store(pipe) -> None:
        pipe.delete(RANKED)
        if ranked:
            pipe.zadd(RANKED, dict(ranked))

    await app[BATCH].transaction(store)
    return len(ranked)
