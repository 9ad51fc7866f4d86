"""What a job needs, built once per worker process: the same async app the API uses (settings,
the Batcher and asyncio Redis client, the async MongoDB client, a Socket.IO emitter), on an
event loop of its own in a thread, so a job runs the API's own functions — one implementation
of each operation — with `run(coroutine)`. RQ itself keeps its synchronous connection
(`redis`, on the queues' Redis), which is what its worker, registries and scheduler need; `cache`
is the synchronous client of the cache's Redis (the same one when they are one Redis).
"""
from __future__ import annotations

import asyncio
import threading
from functools import cached_property
from typing import Any, Awaitable

import redis
from aiohttp import web

from mysocial import config, migrate
from mysocial.config import Settings
from mysocial.core import mongo
from mysocial.core.appkeys import MONGO, SETTINGS, SIO
from mysocial.core.redis import connect, disconnect, sync_client


class Context:
    def __init__(self, settings: Settings):
        self.settings = settings
        self.redis: redis.Redis = sync_client(settings.queue_redis)  # RQ's
        self.cache: redis.Redis = sync_client(settings.redis_url) if settings.queue_redis != settings.redis_url \
            else self.redis
        self.loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self.loop.run_forever, daemon=True, name="jobs-loop")
        self._thread.start()
        self.app: web.Application = self.run(_app(settings))

    def run(self, coroutine: Awaitable) -> Any:
        """Run a coroutine on the context's loop and wait for its result (from a job's thread)."""
        return asyncio.run_coroutine_threadsafe(coroutine, self.loop).result()

    @cached_property
    def mailer(self):
        from mysocial.core.mail import make_mailer

        return make_mailer(self.settings)

    def close(self) -> None:
        try:
            self.run(_close(self.app))
        finally:
            self.loop.call_soon_threadsafe(self.loop.stop)
            self._thread.join(5)
            self.redis.close()
            self.cache.close()


async def _app(settings: Settings) -> web.Application:
    from mysocial.core.realtime import write_only_emitter

    app = web.Application()
    app[SETTINGS] = settings
    await connect(app, settings)
    app[MONGO] = mongo.async_client(settings)[settings.mongo_db]
    await migrate.apply(app[MONGO])
    app[SIO] = write_only_emitter(settings)
    return app


async def _close(app: web.Application) -> None:
    await disconnect(app)
    await app[MONGO].client.close()


_lock = threading.Lock()
_current: Context | None = None


def init(settings: Settings) -> Context:
    global _current
    with _lock:
        if _current is not None:
            _current.close()
        _current = Context(settings)
        return _current


def of(settings: Settings) -> Context:
    """The process's context for `settings`: the current one if it was built from them (the
    workers and the scheduler of `mysocial dev` share it), else a new one."""
    with _lock:
        current = _current
    if current is not None and current.settings == settings:
        return current
    return init(settings)


def get() -> Context:
    """The process's context; a plain `rq worker` builds it from the environment."""
    if _current is None:
        return init(config.load())
    return _current


def run(coroutine: Awaitable) -> Any:
    return get().run(coroutine)


def app() -> web.Application:
    return get().app


