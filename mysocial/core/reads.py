"""Several cache reads in one Redis round trip.

A handler that needs a user, a conversation and a block check used to pay a
round trip for each (~100 µs of the API's CPU apiece). A `Read` is the
commands one such read queues on a pipeline plus how their replies become its
value; `read_all` sends any number of them together. Finishing may fall back
to slower paths (a cache miss read from MongoDB, an index rebuilt), which are
rare and keep their own round trips.
"""
from __future__ import annotations

from typing import Any, Awaitable, Callable, NamedTuple, Sequence

from aiohttp import web

from mysocial.core.appkeys import BATCH

Finish = Callable[[web.Application, list], Awaitable[Any]]


class Read(NamedTuple):  # a tuple: made on every request, and a frozen dataclass costs ~1 µs to make
    queue: Callable[[Any], None]  # adds `size` commands to a pipeline
    size: int
    finish: Finish  # (app, the replies to those commands) -> the value


async def finish_all(app: web.Application, reads: Sequence[Read], replies: list) -> list:
    values, at = [], 0
    for read in reads:
        values.append(await read.finish(app, replies[at:at + read.size]))
        at += read.size
    return values


async def read_all(app: web.Application, *reads: Read) -> list:
    """The values of `reads`, in order, from one pipelined round trip (shared with other
    requests' reads, see `core.redis.Batcher`) — or none, when they need no command."""
    if not any(read.size for read in reads):
        return await finish_all(app, reads, [])

    def queue(pipe) -> None:
        for read in reads:
            read.queue(pipe)

    return await finish_all(app, reads, await app[BATCH].run(queue))


async def read_one(app: web.Application, read: Read) -> Any:
    return (await read_all(app, read))[0]


def _nothing(pipe) -> None:
    pass


def known(value: Any) -> Read:
    """A value at hand, as a `Read` that sends nothing."""
    async def finish(app: web.Application, replies: list) -> Any:
        return value

    return Read(_nothing, 0, finish)


def plain(queue: Callable[[Any], None], size: int, convert: Callable[[list], Any] = list) -> Read:
    """A read without a slow path: its value is `convert(replies)`."""
    async def finish(app: web.Application, replies: list) -> Any:
        return convert(replies)

    return Read(queue, size, finish)
