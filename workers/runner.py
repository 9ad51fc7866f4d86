"""Running RQ workers: as a process (`mysocial worker`) or in a thread (`mysocial dev`, tests)."""
from __future__ import annotations

import logging
import threading

from rq import SimpleWorker
from rq.timeouts import TimerDeathPenalty

from mysocial.config import Settings
from queues import QUEUES
from workers import context

CHANNEL_WAKE_S = 1.0


class ThreadWorker(SimpleWorker):
    """A SimpleWorker that can live off the main thread (no signals). `running` is held while it
    runs a job: whoever takes it (mysocial.dev.finish_jobs) waits for the job in progress and
    keeps any other from starting (one dequeued meanwhile is left to RQ's intermediate-queue
    cleanup, which puts it back)."""

    death_penalty_class = TimerDeathPenalty

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.running = threading.Lock()

    def execute_job(self, job, queue) -> None:
        with self.running:
            super().execute_job(job, queue)

    def subscribe(self) -> None:
        """RQ's, but the thread reading the worker's command channel wakes every second: since
        redis-py 8.2 stopping it waits for its read, which RQ lets block 60 s (a drain, a warm
        shutdown took up to a minute to end)."""
        self.pubsub = self.connection.pubsub()
        self.pubsub.subscribe(**{self.pubsub_channel_name: self.handle_payload})
        self.pubsub_thread = self.pubsub.run_in_thread(
            sleep_time=CHANNEL_WAKE_S, daemon=True, exception_handler=self._pubsub_exception_handler)

    def _install_signal_handlers(self):
        if threading.current_thread() is threading.main_thread():
            super()._install_signal_handlers()


def make_worker(settings: Settings, queues=QUEUES, name: str | None = None) -> ThreadWorker:
    ctx = context.of(settings)
    return ThreadWorker(list(queues), connection=ctx.redis, name=name)


def drain(settings: Settings, queues=QUEUES) -> bool:
    """Run one worker until every queue is empty (burst mode)."""
    return make_worker(settings, queues).work(burst=True, logging_level="WARNING")


def run(settings: Settings, queues=QUEUES, with_scheduler: bool = True) -> None:
    logging.getLogger("rq.worker").setLevel(settings.log_level)
    make_worker(settings, queues).work(with_scheduler=with_scheduler, logging_level=settings.log_level)
