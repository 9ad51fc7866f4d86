"""The scheduler process: rq-scheduler for periodic jobs, plus RQ's own scheduled jobs (retries)."""
from __future__ import annotations

import threading
import warnings

from rq.scheduler import RQScheduler
from rq_scheduler import Scheduler

from mysocial.config import Settings
from queues import QUEUES
from workers import context

# rq-scheduler asks crontab for the next run without `default_utc`, and crontab warns at every
# start that a later version changes the default. The periodic jobs run every minute (or on
# fixed UTC minutes), which either reading gives the same: the warning is noise.
warnings.filterwarnings("ignore", category=FutureWarning, module="rq_scheduler.utils")

PERIODIC = [
    # (id, cron, function): ids are stable so restarts and several schedulers do not duplicate them
    ("reconcile", "* * * * *", "workers.maintenance.reconcile"),
    ("trends", "* * * * *", "workers.feeds.trends"),
    ("feed-drain", "* * * * *", "workers.feeds.drain"),
    ("drop-idle-feeds", "17 * * * *", "workers.feeds.drop_idle"),
]


class PeriodicScheduler(Scheduler):
    """rq-scheduler that also moves RQ's retry-delayed jobs back onto their queues,
    and can run off the main thread (`mysocial dev`)."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._retries = RQScheduler(list(QUEUES), connection=self.connection)

    def enqueue_jobs(self):
        if self._retries.acquire_locks():
            try:
                self._retries.enqueue_scheduled_jobs()
            finally:
                self._retries.release_locks()
        return super().enqueue_jobs()

    def _install_signal_handlers(self):
        if threading.current_thread() is threading.main_thread():
            super()._install_signal_handlers()


def register(scheduler: Scheduler) -> None:
    """(Re)write the periodic jobs under their stable ids: a restart, or several schedulers at
    once, leave one of each, with the settings of the code that runs now."""
    for job_id, cron, func in PERIODIC:
        scheduler.cron(cron, func=func, id=job_id, queue_name="maintenance", use_local_timezone=False,
                       result_ttl=600)  # kept ten minutes for the dashboard (-1 would never expire)


def make(settings: Settings, interval: float = 5) -> PeriodicScheduler:
    ctx = context.of(settings)
    scheduler = PeriodicScheduler(queue_name="maintenance", connection=ctx.redis, interval=interval)
    register(scheduler)
    return scheduler


def run(settings: Settings, interval: float = 5) -> None:
    make(settings, interval).run()
