"""The producer side of the job queues: names, retry policy and how a job is enqueued.

The API never imports `workers`; it names job functions by their dotted path.
A job is added to an asyncio Redis pipeline so it rides in the same
MULTI/EXEC as the cache write that caused it: RQ's own `enqueue_job` builds
a template job once and what it writes is replayed on that pipeline (one
library function call, `rq_enqueue`), so the stored job is exactly what `rq worker` and rq-dashboard expect,
and the event loop never waits on a synchronous Redis call.
"""
from __future__ import annotations

import os
import uuid
from dataclasses import dataclass
from functools import lru_cache

import redis
from bson import ObjectId
from rq import Queue, Retry
from rq.job import Job
from rq.serializers import DefaultSerializer
from rq.utils import get_call_string

from mysocial.core import clock, functions
from mysocial.core.mongo import now_iso

QUEUES = (
    "auth", "user", "post", "reaction", "comment", "follower", "blocked",
    "notification", "image", "chat", "email", "moderation", "maintenance", "feed",
)
RETRY_INTERVALS = [2, 10, 60]
JOB_TIMEOUT = 60
FAILURE_TTL = 7 * 24 * 3600

# The queue of each persisted kind (workers.persist stores every kind).
PERSIST: dict[str, str] = {
    "auth": "auth", "user": "user", "session": "auth", "post": "post", "reaction": "reaction",
    "comment": "comment", "image": "image", "message": "chat", "conversation": "chat", "follow": "follower",
    "block": "blocked", "notification": "notification", "account": "moderation", "report": "moderation",
    "audit": "moderation",
}
PERSIST_DRAIN = "workers.persist.drain"
WAITING_TTL = 60  # a drain job's waiting mark, at most (a job lost after its mark is replaced then)


_OFFLINE = redis.Redis()  # never used for I/O: RQ only needs a connection object to build jobs


@lru_cache(maxsize=None)
def rq_queue(name: str) -> Queue:
    queue = Queue(name, connection=_OFFLINE, default_timeout=JOB_TIMEOUT)
    queue.redis_server_version = (7, 0, 0)
    return queue


def _retry(retry: bool) -> Retry | None:
    return Retry(max=len(RETRY_INTERVALS), interval=RETRY_INTERVALS) if retry else None


PER_JOB = ("created_at", "enqueued_at", "data", "description")



@dataclass(frozen=True)
class _Template:
    registry: str  # rq:queues
    queue_key: str
    fields: tuple  # the job hash's field/value pairs, PER_JOB values to fill in
    slots: tuple[tuple[int, str], ...]  # (index in fields, PER_JOB name)


@lru_cache(maxsize=None)
def _template(queue: str, func: str, retry: bool, intervals: tuple) -> _Template:
    """What RQ's own `enqueue_job` writes for a job of `func` on `queue`.

    Building an RQ Job costs ~170 µs (serializer resolution, to_dict); filling in
    a template RQ made once costs a tenth of that. RQ's commands are recorded on
    an offline synchronous pipeline (which only queues them) and must be the
    three the library's `rq_enqueue` replays; a newer RQ that sends others fails here, loudly.
    One EVAL instead of RQ's four commands saves the API a reply parse for
    each, inside every write's transaction.
    """
    q = rq_queue(queue)
    job = q.create_job(func, args=(), retry=_retry(retry), result_ttl=0, failure_ttl=FAILURE_TTL)
    recorder = _OFFLINE.pipeline(transaction=False)
    q.enqueue_job(job, pipeline=recorder)
    key = Job.key_for(job.id)
    recorded = [args for args, _options in recorder.command_stack]
    hashes = [args[2:] for args in recorded if args[0] == "HSET" and args[1] == key]
    fields = max(hashes, key=len)
    others = [args for args in recorded if args[0] != "HSET"]
    expected = [("SADD", q.redis_queues_keys, q.key), ("RPUSH", q.key, job.id)]
    covered = all(set(h[::2]) <= set(fields[::2]) for h in hashes)
    if [tuple(a) for a in others] != expected or not covered or len(recorded) != len(hashes) + 2:
        raise RuntimeError(f"RQ enqueues a job differently than rq_enqueue replays: {recorded}")
    slots = tuple((i + 1, fields[i]) for i in range(0, len(fields), 2) if fields[i] in PER_JOB)
    return _Template(q.redis_queues_keys, q.key, tuple(fields), slots)


def _payload(func: str, args: tuple) -> tuple[bytes, str]:
    """A job's serialized call and its description. Not compressed, unlike RQ's own (a third of
    the cost of a job here): RQ reads a job's data uncompressed when it is not zlib's (`Job.restore`),
    and a pickle never is (it starts with 0x80, which no zlib stream does)."""
    return DefaultSerializer.dumps((func, None, args, {})), get_call_string(func, args, {}, max_length=75)


def _new_id() -> str:
    """A job id: 128 random bits (uuid4's, without building a UUID)."""
    return os.urandom(16).hex()


def _job_fields(template: _Template, payload: tuple[bytes, str]) -> list:
    stamp = clock.utc_now(6)  # as RQ's utcformat writes it
    values = {"created_at": stamp, "enqueued_at": stamp, "data": payload[0], "description": payload[1]}
    fields = list(template.fields)
    for i, name in template.slots:
        fields[i] = values[name]
    return fields


def add_job(pipe, queue: str, func: str, *args, retry: bool = True) -> str:
    """Add an RQ job to an asyncio pipeline (or transaction); returns the job id."""
    template = _template(queue, func, retry, tuple(RETRY_INTERVALS))
    job_id = _new_id()
    functions.call(pipe, "rq_enqueue", [template.registry, Job.key_for(job_id), template.queue_key], {"id": job_id},
                   *_job_fields(template, _payload(func, args)))
    return job_id


async def enqueue(batch, queue: str, func: str, *args) -> str:
    """Enqueue one job on its own (no cache write goes with it), through a core.redis.Batcher."""
    made: list[str] = []
    await batch.transaction(lambda pipe: made.append(add_job(pipe, queue, func, *args)))
    return made[0]


def drain_key(queue: str) -> str:
    """The members (`<kind>:<id>`) waiting for the drain job of `queue`."""
    return f"persist:drain:{queue}"


def waiting_key(queue: str) -> str:
    """Set while a drain job of `queue` is enqueued and not yet started."""
    return f"persist:waiting:{queue}"


@lru_cache(maxsize=None)
def _fixed_payload(func: str, args: tuple) -> tuple[bytes, str]:
    return _payload(func, args)


def _coalesce(pipe, function: str, queue: str, func: str, args: tuple, pending: str, waiting: str,
              members: list[str]) -> None:
    template = _template(queue, func, True, tuple(RETRY_INTERVALS))
    job_id = _new_id()
    functions.call(pipe, function, [pending, waiting, template.registry, Job.key_for(job_id), template.queue_key],
                   {"members": members, "id": job_id, "ttl": WAITING_TTL},
                   *_job_fields(template, _fixed_payload(func, args)))


def signal(pipe, queue: str, members: list[str]) -> None:
    """Add `members` to `queue`'s drain set and enqueue its drain job unless one is waiting."""
    _coalesce(pipe, "persist_signal", queue, PERSIST_DRAIN, (queue,), drain_key(queue), waiting_key(queue), members)


def signal_in_order(pipe, queue: str, func: str, pending: str, waiting: str, entries: list[str]) -> None:
    """Append `entries` to the list `pending` and enqueue the job `func()` on `queue` unless one is
    waiting (`waiting` marks it): a coalesced job that takes its entries in order (`queue_take`)."""
    _coalesce(pipe, "queue_signal", queue, func, (), pending, waiting, entries)


def add_persists(pipe, changes: list[tuple[str, str]]) -> None:
    """Have every (kind, id) a write changed persisted: coalesced, so a drain job (one per queue,
    `workers.persist.drain`) stores all that is waiting when it runs, in bulk. A write costs the
    API one function call; a burst of writes makes one job, not one each."""
    by_queue: dict[str, list[str]] = {}
    for kind, doc_id in changes:
        by_queue.setdefault(PERSIST[kind], []).append(f"{kind}:{doc_id}")
    for queue, members in by_queue.items():
        signal(pipe, queue, members)


def email(pipe, template: str, to: str, context: dict, key: str | None = None) -> str:
    """`key` names this e-mail once: the job sends it at most once however often it runs
    (a notification's e-mail is keyed by the notification). A fresh key by default."""
    return add_job(pipe, "email", "workers.email.send", template, to, context, key or uuid.uuid4().hex)


async def enqueue_email(batch, template: str, to: str, context: dict) -> str:
    made: list[str] = []
    await batch.transaction(lambda pipe: made.append(email(pipe, template, to, context)))
    return made[0]


def stamp(notification: dict) -> dict:
    """Decide a notification's `_id` and `createdAt` (unless already decided), so a job
    that runs twice, or a write that is tried again, stores, lists and e-mails one notification."""
    return {"_id": str(ObjectId()), "createdAt": now_iso(), **notification}


def notify(pipe, notification: dict) -> str:
    """Ask the notification worker to create (store, cache, emit, maybe e-mail) one notification.

    `notification`: userTo, userFrom, notificationType (comments | reactions |
    follows | messages | moderation), message, entityId, createdItemId, and optionally
    comment, reaction, post, imgId, imgVersion, gifUrl. The job drops it when
    userTo is userFrom or either blocks the other (checked when it runs).
    """
    return add_job(pipe, "notification", "workers.notifications.create", stamp(notification))
