"""Indexes in Redis: the sorted sets (and sets, hashes) that list documents, rebuilt from MongoDB
when Redis lost them.

The one rule for "is this index complete": an index — or a group of keys rebuilt together,
named like `posts`, `follows:<userId>`, `reactions:<postId>` — is complete while the key
`complete:<name>` exists. Indexes have no TTL, so only a lost Redis (or a flush) takes them, and
their marker with them. A library function that decides by an index's content refuses
(`REFUSED incomplete <name>`) until it is complete; `core.writepath.commit` completes it and
runs the transaction again.

A rebuild is single-flight across instances (the lock `rebuild:<name>`, held while it runs),
chunked (CHUNK members per call: no Redis command runs long, memory stays bounded) and correct
while writes arrive: writes go on into the index meanwhile, a chunk adds only members that are
neither there (a write knows better) nor gone (deleted meanwhile, `gone:<kind>`), and the
marker is set once the last chunk is in. A small index is rebuilt by the request that needs
it (another request waits for the marker); a large one (every post, every user) in the
background, while readers answer from MongoDB.
"""
from __future__ import annotations

import asyncio
import logging
import uuid
from dataclasses import dataclass
from typing import AsyncIterator, Awaitable, Callable

from aiohttp import web

from mysocial.core import functions
from mysocial.core.appkeys import BATCH
from mysocial.core.errors import ApiError
from mysocial.core.reads import Read, plain, read_one

log = logging.getLogger("mysocial.indexes")
CHUNK = 1000
LOCK_MS = 30_000
WAIT_S = 10
STATS = "stats:rebuilds"

Chunks = Callable[[web.Application], AsyncIterator[Callable]]  # yields `queue(pipe)` functions
REBUILDS = web.AppKey("index_rebuilds", set)


@dataclass(frozen=True)
class Index:
    """`name`: what the marker and the lock are named after; `family`: the kind of index (for
    statistics); `chunks(app)`: the rebuild, as an async iterator of `queue(pipe)` functions that
    each merge one chunk from MongoDB."""

    name: str
    family: str
    chunks: Chunks
    size: Callable[[web.Application], Awaitable[int]] | None = None  # an estimate, for `prepare`

    @property
    def marker(self) -> str:
        return f"complete:{self.name}"

    @property
    def lock(self) -> str:
        return f"rebuild:{self.name}"


FAMILIES: dict[str, Callable[[str], Index]] = {}


def family(prefix: str, make: Callable[[str], Index]) -> None:
    """Declare how to rebuild the indexes named `<prefix>...` (an `incomplete` refusal names one)."""
    FAMILIES[prefix] = make


def named(name: str) -> Index:
    for prefix in sorted(FAMILIES, key=len, reverse=True):
        if name.startswith(prefix):
            return FAMILIES[prefix](name[len(prefix):])
    raise LookupError(f"no index family is named like {name}")


Entries = Callable[[web.Application, str], Awaitable[list[tuple[str, float]]]]


@dataclass(frozen=True)
class Listing:
    """The indexes `<prefix><owner>` of one document kind, one per owner (a post's comments, a
    user's images or sessions): sorted sets of ids by creation time (ms), each rebuilt in one
    chunk from `entries(app, owner)`. Declared with `listing()`."""

    prefix: str
    family: str
    gone: str  # the kind's `gone:<kind>`
    entries: Entries

    def key(self, owner: str) -> str:
        return self.prefix + owner

    def index(self, owner: str) -> Index:
        async def chunks(app: web.Application):
            yield merge(self.key(owner), self.gone, await self.entries(app, owner))

        return Index(self.key(owner), self.family, chunks)

    async def ids(self, app: web.Application, owner: str, limit: int = 0) -> list[str]:
        """The owner's ids, newest first (`limit`: at most so many), once the index is complete."""
        await ensure(app, self.index(owner))
        [found] = await app[BATCH].run(lambda pipe: pipe.zrevrange(self.key(owner), 0, limit - 1))
        return [m.decode() for m in found]


def listing(prefix: str, family_name: str, gone: str, entries: Entries) -> Listing:
    made = Listing(prefix, family_name, gone, entries)
    family(prefix, made.index)
    return made


def is_complete(index: Index) -> Read:
    return plain(lambda pipe: pipe.exists(index.marker), 1, lambda replies: bool(replies[0]))


async def _rebuild(app: web.Application, index: Index, token: str) -> None:
    """Merge every chunk, keeping the lock alive, then mark the index complete."""
    await app[BATCH].run(lambda pipe: pipe.hincrby(STATS, index.family, 1))
    try:
        async for queue in index.chunks(app):
            results = await app[BATCH].run(lambda pipe: (queue(pipe), functions.call(
                pipe, "index_hold", [index.lock], {"token": token, "ms": LOCK_MS})))
            refused = [r for r in results if isinstance(r, functions.Refused)]
            if refused:  # what it merges from is itself incomplete
                raise RuntimeError(f"rebuilding {index.name}: {refused[0]}")
        await app[BATCH].run(lambda pipe: functions.call(pipe, "index_complete", [index.marker, index.lock],
                                                         {"token": token}))
    except BaseException:
        await app[BATCH].run(lambda pipe: functions.call(pipe, "index_abandon", [index.lock], {"token": token}))
        raise


async def _start(app: web.Application, index: Index) -> str | None:
    """The lock's token if this caller may rebuild `index`, None if it is complete or another is at it."""
    token = uuid.uuid4().hex
    complete, got = await app[BATCH].run(lambda pipe: (pipe.exists(index.marker),
                                                       pipe.set(index.lock, token, nx=True, px=LOCK_MS)))
    if complete:
        if got:
            await app[BATCH].run(lambda pipe: functions.call(pipe, "index_abandon", [index.lock], {"token": token}))
        return None
    return token if got else None


async def ensure(app: web.Application, index: Index, complete: bool | None = None) -> None:
    """Make `index` complete: rebuild it here, or wait for the instance that is rebuilding it.
    (`complete`: what the caller read already.)"""
    if complete or (complete is None and await read_one(app, is_complete(index))):
        return
    for _ in range(int(WAIT_S / 0.05)):
        token = await _start(app, index)
        if token is not None:
            await _rebuild(app, index, token)
            return
        if await read_one(app, is_complete(index)):
            return
        await asyncio.sleep(0.05)  # another request (or instance) is rebuilding it
    raise ApiError("Service busy, please try again", 503)


async def ensure_named(app: web.Application, name: str) -> None:
    await ensure(app, named(name))


def in_background(app: web.Application, index: Index, complete: bool) -> bool:
    """For a large index: True if complete; else start its rebuild in the background (unless one
    runs somewhere) and answer False: the caller reads MongoDB meanwhile."""
    if complete:
        return True
    running = app.setdefault(REBUILDS, set())
    if not any(t.get_name() == index.name for t in running):
        task = asyncio.create_task(_background(app, index), name=index.name)
        running.add(task)
        task.add_done_callback(running.discard)
    return False


async def _background(app: web.Application, index: Index) -> None:
    try:
        token = await _start(app, index)
        if token is not None:
            log.info("rebuilding the index %s from MongoDB", index.name)
            await _rebuild(app, index, token)
            log.info("index %s rebuilt", index.name)
    except Exception:
        log.exception("rebuilding the index %s failed (the next reader tries again)", index.name)


INLINE_UP_TO = 10 * CHUNK


def prepare(*wanted: Index):
    """An on_startup hook: a large index that is not complete is rebuilt before the instance
    serves when MongoDB holds little (a new deployment: a few milliseconds), else in the
    background (readers answer from MongoDB meanwhile)."""
    async def hook(app: web.Application) -> None:
        for index in wanted:
            if await read_one(app, is_complete(index)):
                continue
            if index.size is None or await index.size(app) > INLINE_UP_TO:
                in_background(app, index, False)
            elif (token := await _start(app, index)) is not None:
                await _rebuild(app, index, token)
            # else another instance is rebuilding it: this one reads MongoDB until it is done

    return hook


async def stop_rebuilds(app: web.Application) -> None:
    for task in list(app.get(REBUILDS, ())):
        task.cancel()


def merge(index: str, gone: str, entries: list[tuple[str, float]]) -> Callable:
    """A chunk of (member, score) for a plain sorted-set index, as a `queue(pipe)` function."""
    def queue(pipe) -> None:
        functions.call(pipe, "index_merge", [index, gone], None,
                       *[item for member, score in entries for item in (score, member)])

    return queue


async def chunked(rows: AsyncIterator, size: int = CHUNK) -> AsyncIterator[list]:
    """Rows of a MongoDB cursor in lists of `size`."""
    batch: list = []
    async for row in rows:
        batch.append(row)
        if len(batch) == size:
            yield batch
            batch = []
    if batch:
        yield batch
