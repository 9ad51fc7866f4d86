"""Job functions that only tests enqueue (workers import them by name)."""
from __future__ import annotations

import time

from workers import context


def signal_then_sleep(key: str, seconds: float) -> str:
    """Tell the test the job is running (RPUSH), then keep running for a while."""
    context.get().redis.rpush(key, "started")
    time.sleep(seconds)
    return "done"
