"""The social graph in Redis — follows, blocks, their counters, and who may see whom. Every other
feature asks here (and the library's graph.lua) instead of reading these keys.

- `following:<id>`, `followers:<id>`: sorted sets by follow time (ms); the index
  `follows:<id>` (both sets of one user), rebuilt from MongoDB per user.
- `blocked:<id>` (whom the user blocks), `blockedby:<id>` (who blocks the user): sets; the
  index `blocks` (all of them), rebuilt from MongoDB in chunks.
- `gone:follow`, `gone:block`: edges ended within a day ("<a>-<b>"), skipped by rebuilds.
A follow or block changes the edge, both users' counters (`followersCount`, `followingCount`)
and block lists (`blocked`, `blockedBy`) in one library call, and only when the edge really
changes.
"""
from __future__ import annotations

from datetime import datetime, timezone

from aiohttp import web

from mysocial.core import functions, indexes
from mysocial.core.appkeys import BATCH, MONGO
from mysocial.core.mongo import edge_ends
from mysocial.core.reads import Read, known, read_all, read_one
from mysocial.core.redis import prefixed
from mysocial.graph import store
from mysocial.moderation import cache as moderation
from mysocial.users.cache import key as user_key

GONE_FOLLOW = "gone:follow"
GONE_BLOCK = "gone:block"


following_key = prefixed("following:")
followers_key = prefixed("followers:")
blocked_key = prefixed("blocked:")
blocked_by_key = prefixed("blockedby:")


# --- indexes ------------------------------------------------------------------


def follows_index(user_id: str) -> indexes.Index:
    async def chunks(app: web.Application):
        following, followers = await store.edges_of(app[MONGO], user_id)
        yield lambda pipe: functions.call(pipe, "graph_merge_follows",
                                          [following_key(user_id), followers_key(user_id), GONE_FOLLOW],
                                          {"user": user_id, "following": following, "followers": followers})

    return indexes.Index(f"follows:{user_id}", "follows", chunks)


async def _block_chunks(app: web.Application):
    async for pairs in indexes.chunked(store.block_pairs(app[MONGO])):
        keys = [GONE_BLOCK] + [k for a, b in pairs for k in (blocked_key(a), blocked_by_key(b))]
        yield lambda pipe, keys=keys, pairs=pairs: functions.call(pipe, "graph_merge_blocks", keys,
                                                                  {"pairs": [list(p) for p in pairs]})


BLOCKS = indexes.Index("blocks", "blocks", _block_chunks)
indexes.family("follows:", follows_index)
indexes.family("blocks", lambda rest: BLOCKS)


def _marker(name: str) -> str:
    return f"complete:{name}"


async def ready(app: web.Application, *user_ids: str) -> None:
    """The block sets, the suspended users and these users' follow sets are complete."""
    wanted = [BLOCKS, moderation.SUSPENDED, *(follows_index(u) for u in dict.fromkeys(user_ids))]
    flags = await read_all(app, *(indexes.is_complete(i) for i in wanted))
    for index, complete in zip(wanted, flags):
        await indexes.ensure(app, index, complete)


# --- reads ----------------------------------------------------------------------


def _ensured(queue, size: int, convert, names: list[indexes.Index], retry) -> Read:
    """A read that needs `names` complete: their markers ride along; an incomplete one is
    completed and the read done again."""
    def queue_all(pipe) -> None:
        for index in names:
            pipe.exists(index.marker)
        queue(pipe)

    async def finish(app: web.Application, replies: list):
        flags, values = replies[:len(names)], replies[len(names):]
        if all(flags):
            return convert(values)
        for index, complete in zip(names, flags):
            await indexes.ensure(app, index, bool(complete))
        return await read_one(app, retry())

    return Read(queue_all, len(names) + size, finish)


def hidden(user_id: str) -> Read:
    """Everyone `user_id` must not see or reach: whom they block, who blocks them, and suspended
    users (moderation) but themselves."""
    return _ensured(lambda pipe: (pipe.sunion(blocked_key(user_id), blocked_by_key(user_id)),
                                  pipe.zrange(moderation.suspended_key, 0, -1)), 2,
                    lambda values: {m.decode() for m in (*values[0], *values[1])} - {user_id},
                    [BLOCKS, moderation.SUSPENDED], lambda: hidden(user_id))


def hidden_among(user_id: str, others: list[str]) -> Read:
    """Which of `others` `user_id` must not see (as `hidden`), asking about these users only: a
    list's authors, not every suspended user."""
    if not others:
        return known(set())
    return _ensured(lambda pipe: (pipe.smismember(blocked_key(user_id), others),
                                  pipe.smismember(blocked_by_key(user_id), others),
                                  pipe.zmscore(moderation.suspended_key, others)), 3,
                    lambda values: {u for u, *flags in zip(others, *values) if any(flags)} - {user_id},
                    [BLOCKS, moderation.SUSPENDED], lambda: hidden_among(user_id, others))


async def hidden_of(app: web.Application, user_id: str, others) -> set[str]:
    """`hidden_among`, read on its own (`others`: any iterable, repeats allowed)."""
    return await read_one(app, hidden_among(user_id, list(dict.fromkeys(o for o in others if o))))


def blocks(user_id: str) -> Read:
    """Whom `user_id` blocks and who blocks them: `hidden` without the suspended users, for
    what reaches only connected users (a suspension ends the user's sessions and sockets)."""
    return _ensured(lambda pipe: pipe.sunion(blocked_key(user_id), blocked_by_key(user_id)), 1,
                    lambda values: {m.decode() for m in values[0]} - {user_id}, [BLOCKS], lambda: blocks(user_id))


def blocked_between(a: str, b: str) -> Read:
    """True when either user blocks the other, or either is suspended."""
    return _ensured(lambda pipe: (pipe.sismember(blocked_key(a), b), pipe.sismember(blocked_key(b), a),
                                  pipe.zmscore(moderation.suspended_key, [a, b])), 3,
                    lambda values: bool(values[0] or values[1] or any(values[2])),
                    [BLOCKS, moderation.SUSPENDED], lambda: blocked_between(a, b))


def limited() -> Read:
    """The limited users: their Public posts reach only their followers (moderation)."""
    return moderation.in_state("limited")


def is_limited(user_id: str) -> Read:
    """Whether the user is limited (moderation)."""
    return moderation.is_in("limited", user_id)


def blocking(blocker: str, blocked: str) -> Read:
    return _ensured(lambda pipe: pipe.sismember(blocked_key(blocker), blocked), 1, lambda values: bool(values[0]),
                    [BLOCKS], lambda: blocking(blocker, blocked))


def following(follower: str, followee: str) -> Read:
    """When `follower` started following `followee` (ms), or None."""
    return _ensured(lambda pipe: pipe.zscore(following_key(follower), followee), 1, lambda values: values[0],
                    [follows_index(follower)], lambda: following(follower, followee))


def _members(key: str, user_id: str) -> Read:
    return _ensured(lambda pipe: pipe.zrevrange(key, 0, -1), 1, lambda values: [m.decode() for m in values[0]],
                    [follows_index(user_id)], lambda: _members(key, user_id))


def following_set(user_id: str) -> Read:
    """Whom `user_id` follows, as a `Read`."""
    return _members(following_key(user_id), user_id)


async def hidden_from(app: web.Application, user_id: str) -> set[str]:
    return await read_one(app, hidden(user_id))


async def between(app: web.Application, a: str, b: str) -> bool:
    return await read_one(app, blocked_between(a, b))


async def is_blocking(app: web.Application, blocker: str, blocked: str) -> bool:
    return await read_one(app, blocking(blocker, blocked))


def _blocks_of(blocker: str) -> Read:
    return _ensured(lambda pipe: pipe.smembers(blocked_key(blocker)), 1,
                    lambda values: sorted(m.decode() for m in values[0]), [BLOCKS], lambda: _blocks_of(blocker))


async def blocked_by(app: web.Application, blocker: str) -> list[str]:
    """Whom `blocker` blocks."""
    return await read_one(app, _blocks_of(blocker))


async def follower_ids(app: web.Application, user_id: str) -> list[str]:
    return await read_one(app, _members(followers_key(user_id), user_id))


async def following_ids(app: web.Application, user_id: str) -> list[str]:
    return await read_one(app, _members(following_key(user_id), user_id))


async def is_following(app: web.Application, follower: str, followee: str) -> bool:
    return await read_one(app, following(follower, followee)) is not None


async def follower_bounds(app: web.Application, user_id: str, size: int) -> list[float]:
    """Follow times that cut the user's followers into batches of `size` (the first batch is all
    before the first bound, the last all from the last bound on): a batch stays the same set of
    follows while others come and go, so no follower is left out between batches."""
    await indexes.ensure(app, follows_index(user_id))
    key = followers_key(user_id)
    [count] = await app[BATCH].run(lambda pipe: pipe.zcard(key))
    ranks = range(size, count, size)
    if not ranks:
        return []
    found = await app[BATCH].run(lambda pipe: [pipe.zrange(key, rank, rank, withscores=True) for rank in ranks])
    return [entry[0][1] for entry in found if entry]


async def followers_within(app: web.Application, user_id: str, low: float | None, high: float | None) -> list[str]:
    """The followers who followed at `low` or later and before `high` (None: no bound)."""
    await indexes.ensure(app, follows_index(user_id))
    low_bound = "-inf" if low is None else low
    high_bound = "+inf" if high is None else f"({high}"
    [found] = await app[BATCH].run(lambda pipe: pipe.zrangebyscore(followers_key(user_id), low_bound, high_bound))
    return [m.decode() for m in found]


def reader_keys(reader: str) -> list[str]:
    """The keys a library function deciding what `reader` may see reads (posts' post_page):
    blocked, blockedby, following, the suspended and the limited users; then the markers of the
    indexes they belong to."""
    return [blocked_key(reader), blocked_by_key(reader), following_key(reader), moderation.suspended_key,
            moderation.limited_key, _marker(BLOCKS.name), _marker(follows_index(reader).name),
            moderation.SUSPENDED.marker, moderation.LIMITED.marker]


# --- writes (inside a write-path transaction) --------------------------------------


def follow(pipe, follower: str, followee: str, at_ms: float) -> None:
    """Answers 1 (a new follow), None (already), or a Refused (`blocked`, `suspended`, or not ready)."""
    a, b = follower, followee
    functions.call(pipe, "graph_follow",
                   [following_key(a), followers_key(b), user_key(a), user_key(b), blocked_key(a), blocked_key(b),
                    _marker(f"follows:{a}"), _marker(f"follows:{b}"), _marker("blocks"), GONE_FOLLOW,
                    moderation.suspended_key, moderation.SUSPENDED.marker],
                   {"a": a, "b": b, "at": at_ms})


def unfollow(pipe, follower: str, followee: str, now_ms: float) -> None:
    """Answers 1 (ended), None (there was none), or a Refused (not ready)."""
    a, b = follower, followee
    functions.call(pipe, "graph_unfollow",
                   [following_key(a), followers_key(b), user_key(a), user_key(b), _marker(f"follows:{a}"),
                    _marker(f"follows:{b}"), GONE_FOLLOW], {"a": a, "b": b, "now": int(now_ms)})


def block(pipe, blocker: str, blocked: str, now_ms: float) -> None:
    """Answers [1, ended blocker→blocked, ended blocked→blocker], None (already), or a Refused."""
    a, b = blocker, blocked
    functions.call(pipe, "graph_block",
                   [user_key(a), user_key(b), blocked_key(a), blocked_by_key(b), following_key(a), followers_key(b),
                    following_key(b), followers_key(a), _marker(f"follows:{a}"), _marker(f"follows:{b}"),
                    _marker("blocks"), GONE_FOLLOW, GONE_BLOCK], {"a": a, "b": b, "now": int(now_ms)})


def unblock(pipe, blocker: str, blocked: str, now_ms: float) -> None:
    """Answers 1, None (was not blocked), or a Refused."""
    a, b = blocker, blocked
    functions.call(pipe, "graph_unblock",
                   [user_key(a), user_key(b), blocked_key(a), blocked_by_key(b), _marker("blocks"), GONE_BLOCK],
                   {"a": a, "b": b, "now": int(now_ms)})


# --- the state a persist job stores ----------------------------------------------------


def follow_state(edge: str) -> Read:
    """The current cached state of a follow `<follower>-<followee>`, None when absent."""
    follower, followee = edge_ends(edge)

    def convert(values: list) -> dict | None:
        if values[0] is None:
            return None
        at = datetime.fromtimestamp(values[0] / 1000, timezone.utc)
        return {"followerId": follower, "followeeId": followee, "createdAt": at}

    return _ensured(lambda pipe: pipe.zscore(following_key(follower), followee), 1, convert,
                    [follows_index(follower)], lambda: follow_state(edge))


def block_state(edge: str) -> Read:
    blocker, blocked = edge_ends(edge)
    return _ensured(lambda pipe: pipe.sismember(blocked_key(blocker), blocked), 1,
                    lambda values: {"blockerId": blocker, "blockedId": blocked} if values[0] else None,
                    [BLOCKS], lambda: block_state(edge))
