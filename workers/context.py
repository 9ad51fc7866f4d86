"""What a job needs (settings, Redis, MongoDB, socket emitter, mailer), built once per process."""
from __future__ import annotations

import threading
from dataclasses import dataclass
from functools import cached_property

import redis

from mysocial import config, migrate
from mysocial.config import Settings
from mysocial.core import mongo
from mysocial.core.redis import sync_client


@dataclass
class Context:
    settings: Settings
    redis: redis.Redis
    db: object

    @cached_property
    def emitter(self):
        from mysocial.core.realtime import write_only_emitter

        return write_only_emitter(self.settings)

    @cached_property
    def mailer(self):
        from mysocial.core.mail import make_mailer

        return make_mailer(self.settings)

    def emit(self, event: str, data, user_ids) -> None:
        from mysocial.core.realtime import rooms

        targets = rooms(user_ids)
        if targets:
            self.emitter.emit(event, data, room=targets)


_lock = threading.Lock()
_current: Context | None = None


def init(settings: Settings) -> Context:
    global _current
    with _lock:
        _current = Context(settings, sync_client(settings.redis_url), mongo.sync_db(settings))
        migrate.apply_sync(_current.db)
        return _current


def get() -> Context:
    """The process's context; a plain `rq worker` builds it from the environment."""
    if _current is None:
        return init(config.load())
    return _current
