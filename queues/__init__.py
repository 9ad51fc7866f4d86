"""The producer side of the job queues: names, retry policy and how a job is enqueued.

The API never imports `workers`; it names job functions by their dotted path.
A job is added to an asyncio Redis pipeline so it rides in the same
MULTI/EXEC as the cache write that caused it: RQ's own `enqueue_job` builds
the job and its commands are replayed on that pipeline, so the stored job is
exactly what `rq worker` and rq-dashboard expect, and the event loop never
waits on a synchronous Redis call.
"""
from __future__ import annotations

import uuid
import zlib
from functools import lru_cache

import redis
from rq import Queue, Retry
from rq.job import Job
from rq.serializers import DefaultSerializer
from rq.utils import get_call_string, now, utcformat

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
    "follow": ("follower", "workers.followers.persist_follow"),
    "block": ("blocked", "workers.blocks.persist_block"),
    "notification": ("notification", "workers.notifications.persist_notification"),
}


_OFFLINE = redis.Redis()  # never used for I/O: RQ only needs a connection object to build jobs


@lru_cache(maxsize=None)
def rq_queue(name: str) -> Queue:
    queue = Queue(name, connection=_OFFLINE, default_timeout=JOB_TIMEOUT)
    queue.redis_server_version = (7, 0, 0)
    return queue


def _retry(retry: bool) -> Retry | None:
    return Retry(max=len(RETRY_INTERVALS), interval=RETRY_INTERVALS) if retry else None


JOB_ID, JOB_KEY = "job id", "job key"
PER_JOB = ("created_at", "enqueued_at", "data", "description")


@lru_cache(maxsize=None)
def _template(queue: str, func: str, retry: bool, intervals: tuple) -> tuple[tuple[tuple, tuple], ...]:
    """The raw commands RQ's own `enqueue_job` sends for a job of `func` on `queue`, each with
    the positions of its per-job values (the job id, its key, PER_JOB hash fields).

    Building an RQ Job costs ~170 µs (serializer resolution, to_dict); filling the
    slots of a template RQ made once costs a tenth of that. The commands are
    recorded on an offline synchronous pipeline, which only queues them.
    """
    q = rq_queue(queue)
    job = q.create_job(func, args=(), retry=_retry(retry), result_ttl=0, failure_ttl=FAILURE_TTL)
    recorder = _OFFLINE.pipeline(transaction=False)
    q.enqueue_job(job, pipeline=recorder)
    key = Job.key_for(job.id)
    named = {job.id: JOB_ID, key: JOB_KEY}
    recorded = [args for args, _options in recorder.command_stack]
    hashed = [set(args[2::2]) for args in recorded if args[0] == "HSET" and args[1] == key]
    commands = []
    for args in recorded:
        if args[0] == "HSET" and args[1] == key and len(args) == 4 and sum(args[2] in f for f in hashed) > 1:
            continue  # RQ sets `status` on its own, then again with every other field
        slots = [(i, named[a]) for i, a in enumerate(args) if isinstance(a, str) and a in named]
        if args[0] == "HSET" and args[1] == key:
            slots += [(i + 1, args[i]) for i in range(2, len(args), 2) if args[i] in PER_JOB]
        commands.append((tuple(args), tuple(slots)))
    return tuple(commands)


def add_job(pipe, queue: str, func: str, *args, retry: bool = True) -> str:
    """Add an RQ job to an asyncio pipeline (or transaction); returns the job id."""
    job_id = str(uuid.uuid4())
    stamp = utcformat(now())
    values = {
        JOB_ID: job_id, JOB_KEY: Job.key_for(job_id), "created_at": stamp, "enqueued_at": stamp,
        "data": zlib.compress(DefaultSerializer.dumps((func, None, args, {}))),
        "description": get_call_string(func, args, {}, max_length=75),
    }
    for command, slots in _template(queue, func, retry, tuple(RETRY_INTERVALS)):
        filled = list(command)
        for i, name in slots:
            filled[i] = values[name]
        pipe.execute_command(*filled)
    return job_id


async def enqueue(client, queue: str, func: str, *args) -> str:
    """Enqueue one job on its own (no cache write goes with it)."""
    async with client.pipeline(transaction=True) as pipe:
        job_id = add_job(pipe, queue, func, *args)
        await pipe.execute()
    return job_id


def add_persist(pipe, kind: str, doc_id: str) -> str:
    queue, func = PERSIST[kind]
    return add_job(pipe, queue, func, doc_id)


PERSIST_MANY = "workers.persist.persist_many"


def add_persists(pipe, changes: list[tuple[str, str]]) -> str | None:
    """One job for every (kind, id) one write changed, on the first one's queue: a job costs
    the API ~50 µs and four Redis commands, and the worker about as many round trips."""
    if not changes:
        return None
    if len(changes) == 1:
        return add_persist(pipe, *changes[0])
    return add_job(pipe, PERSIST[changes[0][0]][0], PERSIST_MANY, [f"{kind}:{doc_id}" for kind, doc_id in changes])


def email(pipe, template: str, to: str, context: dict) -> str:
    return add_job(pipe, "email", "workers.email.send", template, to, context)


async def enqueue_email(client, template: str, to: str, context: dict) -> str:
    return await enqueue(client, "email", "workers.email.send", template, to, context)


def notify(pipe, notification: dict) -> str:
    """Ask the notification worker to create (store, cache, emit, maybe e-mail) one notification.

    `notification`: userTo, userFrom, notificationType (comments | reactions |
    follows | messages), message, entityId, createdItemId, and optionally
    comment, reaction, post, imgId, imgVersion, gifUrl. The job drops it when
    userTo is userFrom or either blocks the other (checked when it runs).
    """
    return add_job(pipe, "notification", "workers.notifications.create", notification)
