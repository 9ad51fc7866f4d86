"""The producer side of the job queues: names, retry policy and how a job is enqueued.

The API never imports `workers`; it names job functions by their dotted path.
A job is added to an asyncio Redis pipeline so it rides in the same
MULTI/EXEC as the cache write that caused it: RQ's own `enqueue_job` builds
the job and its commands are replayed on that pipeline, so the stored job is
exactly what `rq worker` and rq-dashboard expect, and the event loop never
waits on a synchronous Redis call.
"""
from __future__ import annotations

from functools import lru_cache

import redis
from rq import Queue, Retry

QUEUES = (
    "auth", "user", "post", "reaction", "comment", "follower", "blocked",
    "notification", "image", "chat", "email", "maintenance",
)
RETRY_INTERVALS = [2, 10, 60]
JOB_TIMEOUT = 60
FAILURE_TTL = 7 * 24 * 3600

PERSIST: dict[str, tuple[str, str]] = {
    "auth": ("auth", "workers.auth.persist_auth"),
    "user": ("user", "workers.users.persist_user"),
    "post": ("post", "workers.posts.persist_post"),
    "reaction": ("reaction", "workers.reactions.persist_reaction"),
    "comment": ("comment", "workers.comments.persist_comment"),
    "image": ("image", "workers.images.persist_image"),
    "message": ("chat", "workers.chat.persist_message"),
    "conversation": ("chat", "workers.chat.persist_conversation"),
}


class _Recorder:
    """Stands in for a sync pipeline: records what RQ would send."""

    explicit_transaction = True

    def __init__(self) -> None:
        self.calls: list[tuple[str, tuple, dict]] = []

    def multi(self) -> None:
        pass

    def __getattr__(self, name: str):
        def record(*args, **kwargs):
            self.calls.append((name, args, kwargs))

        return record


_OFFLINE = redis.Redis()  # never used for I/O: RQ only needs a connection object to build jobs


@lru_cache(maxsize=None)
def rq_queue(name: str) -> Queue:
    queue = Queue(name, connection=_OFFLINE, default_timeout=JOB_TIMEOUT)
    queue.redis_server_version = (7, 0, 0)
    # Jobs then pick RQ's default (pickle) serializer themselves, skipping a runtime Protocol
    # isinstance check that cost 40% of building a job (the stored job is the same).
    queue.serializer = None
    return queue


def add_job(pipe, queue: str, func: str, *args, retry: bool = True) -> str:
    """Add an RQ job to an asyncio pipeline (or transaction); returns the job id."""
    q = rq_queue(queue)
    job = q.create_job(
        func,
        args=args,
        retry=Retry(max=len(RETRY_INTERVALS), interval=RETRY_INTERVALS) if retry else None,
        result_ttl=0,
        failure_ttl=FAILURE_TTL,
    )
    recorder = _Recorder()
    q.enqueue_job(job, pipeline=recorder)
    for name, a, k in recorder.calls:
        getattr(pipe, name)(*a, **k)
    return job.id


async def enqueue(client, queue: str, func: str, *args) -> str:
    """Enqueue one job on its own (no cache write goes with it)."""
    async with client.pipeline(transaction=True) as pipe:
        job_id = add_job(pipe, queue, func, *args)
        await pipe.execute()
    return job_id


def add_persist(pipe, kind: str, doc_id: str) -> str:
    queue, func = PERSIST[kind]
    return add_job(pipe, queue, func, doc_id)


def email(pipe, template: str, to: str, context: dict) -> str:
    return add_job(pipe, "email", "workers.email.send", template, to, context)


async def enqueue_email(client, template: str, to: str, context: dict) -> str:
    return await enqueue(client, "email", "workers.email.send", template, to, context)


def notify(pipe, notification: dict) -> str:
    """Ask the notification worker to create (store, cache, emit, maybe e-mail) one notification.

    `notification`: userTo, userFrom, notificationType (comments | reactions |
    follows | messages), message, entityId, createdItemId, and optionally
    comment, reaction, post, imgId, imgVersion, gifUrl.
    """
    return add_job(pipe, "notification", "workers.notifications.create", notification)
