"""This instance's copies of the sessions it has read, so that an authenticated request needs no
Redis round trip of its own.

Every change to a session (a touch, a renewal, a refresh, its end) publishes its id on CHANNEL in
the same transaction (mysocial.sessions.cache), and every instance drops its copy when the
message arrives; the instance that made the change drops its own before it answers. So a session
ended here is refused here at once, and on other instances as soon as the message reaches them
(a millisecond or so) — never later than MAX_AGE, after which a copy is read again anyway.

Copies are kept only while the subscription is up: before it is confirmed, and from the moment
it fails until it is confirmed again, none is served (every request reads Redis, as without this
cache), and a (re)confirmed subscription starts empty, since messages may have been missed.
A copy is stored only if no message for its session arrived while it was being read.
"""
from __future__ import annotations

import asyncio
import logging
import time
from typing import AsyncIterator

from aiohttp import web

from mysocial.core.appkeys import SETTINGS
from mysocial.core.redis import async_client

log = logging.getLogger("mysocial.sessions")
CHANNEL = "sessions:changed"
MAX_AGE = 2.0  # seconds
MAX_ENTRIES = 10_000  # at MAX_AGE each, room for 5,000 sessions read a second
RETRY_EVERY = 0.5  # seconds between attempts to subscribe again
CLIENT_NAME = "mysocial-sessions"


class Copies:
    """Session id -> (session, when it was read), valid while `on`."""

    def __init__(self) -> None:
        self.on = False
        self.subscriptions = 0  # confirmed subscriptions so far
        self.dropped = 0  # change messages received so far
        self.losses = 0  # subscriptions lost so far
        self._copies: dict[str, tuple[dict, float]] = {}
        self._reading: dict[str, list[float]] = {}

    def get(self, session_id: str) -> dict | None:
        if not self.on:
            return None
        found = self._copies.get(session_id)
        if found is None:
            return None
        if time.monotonic() - found[1] > MAX_AGE:
            del self._copies[session_id]
            return None
        return found[0]

    def reading(self, session_id: str) -> list[float]:
        """Before reading `session_id` from Redis: the ticket to `store` what was read (it holds
        when the first read began: a copy's age counts from there). Reads under way together share
        one (a new one each would keep every earlier read from storing)."""
        ticket = self._reading.get(session_id)
        if ticket is None:
            if len(self._reading) >= MAX_ENTRIES:
                self._reading.clear()
            ticket = self._reading[session_id] = [time.monotonic()]
        return ticket

    def store(self, session_id: str, ticket: list[float], session: dict | None) -> None:
        """Keep what was read, unless the session changed (or the subscription failed) meanwhile."""
        if self._reading.get(session_id) is not ticket:
            return
        del self._reading[session_id]
        if session is None or not self.on:
            return
        if len(self._copies) >= MAX_ENTRIES:
            del self._copies[next(iter(self._copies))]
        self._copies[session_id] = (session, ticket[0])

    def drop(self, session_id: str) -> None:
        self._copies.pop(session_id, None)
        self._reading.pop(session_id, None)

    def subscribed(self) -> None:
        self.clear()
        self.subscriptions += 1
        self.on = True

    def off(self) -> None:
        if self.on:
            self.losses += 1
        self.on = False
        self.clear()

    def clear(self) -> None:
        self._copies.clear()
        self._reading.clear()


LOCAL = web.AppKey("session_copies", Copies)


async def _follow(app: web.Application, copies: Copies) -> None:
    while True:
        # No retries: redis-py would reconnect and subscribe again in place, and messages sent in
        # between would be missed while copies were still served.
        client = async_client(app[SETTINGS].redis_url, retries=0, name=CLIENT_NAME)
        try:
            async with client.pubsub() as pubsub:
                await pubsub.subscribe(CHANNEL)
                async for message in pubsub.listen():
                    if message["type"] == "subscribe":
                        copies.subscribed()
                    elif message["type"] == "message":
                        copies.dropped += 1
                        copies.drop(message["data"].decode())
        except asyncio.CancelledError:
            raise
        except Exception:
            log.warning("session changes: subscription lost, copies off until it is back", exc_info=True)
        finally:
            copies.off()
            await client.aclose()
        await asyncio.sleep(RETRY_EVERY)


async def copies_ctx(app: web.Application) -> AsyncIterator[None]:
    """The copies, and the subscription that keeps them true, while the app serves."""
    copies = app[LOCAL] = Copies()
    task = asyncio.create_task(_follow(app, copies), name="session changes")
    yield
    task.cancel()
    try:
        await task
    except asyncio.CancelledError:
        pass


def forget(app: web.Application, session_id: str) -> None:
    """This instance changed the session: drop its copy before answering."""
    app[LOCAL].drop(session_id)
