"""`python -m bench.worker`: RQ workers for the bench, optionally with MongoDB slowed down.

`--delay-ms D` makes every write to MongoDB (the stand-in or a real server)
take D ms longer in this process only: the API is untouched, so a write
route's latency shows whether it waits for MongoDB. `--burst` drains the
queues once and prints `{"jobs": n, "seconds": s}` as JSON on stdout.
"""
from __future__ import annotations

import argparse
import asyncio
import json
import threading
import time

import redis

from mysocial import config
from mysocial.core import logs
from mysocial.core.appkeys import MONGO
from queues import QUEUES
from workers import context, runner

WRITES = frozenset({"insert_one", "insert_many", "replace_one", "update_one", "update_many", "delete_one",
                    "delete_many", "bulk_write", "find_one_and_update", "find_one_and_replace",
                    "find_one_and_delete"})


class SlowCollection:
    def __init__(self, coll, delay: float):
        self._coll, self._delay = coll, delay

    def __getattr__(self, name: str):
        attr = getattr(self._coll, name)
        if name not in WRITES:
            return attr

        async def slowed(*args, **kwargs):
            await asyncio.sleep(self._delay)
            return await attr(*args, **kwargs)

        return slowed


class SlowDatabase:
    """Wraps PyMongo's async database: every write method waits `delay` seconds first."""

    def __init__(self, db, delay: float):
        self._db, self._delay = db, delay

    def __getitem__(self, name: str) -> SlowCollection:
        return SlowCollection(self._db[name], self._delay)

    def __getattr__(self, name: str):
        return getattr(self._db, name)


def queued(r: redis.Redis, queues: list[str]) -> int:
    return sum(r.llen(f"rq:queue:{q}") for q in queues)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.worker")
    parser.add_argument("--threads", type=int, default=2, help="worker threads")
    parser.add_argument("--delay-ms", type=float, default=0, help="added to every MongoDB write")
    parser.add_argument("--queues", default=",".join(QUEUES), help="comma-separated queue names")
    parser.add_argument("--burst", action="store_true", help="drain once, print jobs and seconds")
    args = parser.parse_args(argv)
    settings = config.load()
    logs.setup(settings.log_level, settings.log_format)
    ctx = context.init(settings)
    if args.delay_ms:
        ctx.app[MONGO] = SlowDatabase(ctx.app[MONGO], args.delay_ms / 1000)
    queues = args.queues.split(",")
    jobs = queued(ctx.redis, queues)
    workers = [runner.make_worker(settings, queues, name=f"bench-{n}-{time.time_ns()}") for n in range(args.threads)]
    start = time.perf_counter()
    threads = [threading.Thread(target=w.work, kwargs={"burst": args.burst, "logging_level": "WARNING"}, daemon=True)
               for w in workers]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    if args.burst:
        print(json.dumps({"jobs": jobs - queued(ctx.redis, queues), "seconds": time.perf_counter() - start}),
              flush=True)


if __name__ == "__main__":
    main()
