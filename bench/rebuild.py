"""`python -m bench.rebuild`: Redis loses everything while MongoDB holds 100,000 posts.

Two API instances, one redis-server, the MongoDB wire server loaded in bulk
(bench/seeded_mongo.py; MONGO_URL is not used: the posts are stored through the
engine). A user reads the first page of the feed on both instances right after
FLUSHALL, then again and again until the posts index is complete. Printed: how
long the rebuild took, the feed page's latency while it ran against after it
(the ratio), whether the pages agree, how many instances rebuilt (`stats:rebuilds`),
and Redis's slow log: every command over 1 ms during the rebuild, the slowest, and
how many took over the 10 ms budget.
"""
from __future__ import annotations

import argparse
import asyncio
import collections
import json
import os
import statistics
import subprocess
import sys
import time

import aiohttp
from bson import json_util
from pymongo import MongoClient

from bench import scenario
from bench.load import Request
from bench.stack import ROOT, Stack
from queues import QUEUES

BUDGET_US = 10_000
LOGGED_OVER_US = 1_000
FEED = f"{scenario.API}/post/all/1"


def say(text: str) -> None:
    print(text, file=sys.stderr, flush=True)


class SeededMongo:
    def __init__(self) -> None:
        env = {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")]))}
        self.proc = subprocess.Popen([sys.executable, "-m", "bench.seeded_mongo"], stdin=subprocess.PIPE,
                                     stdout=subprocess.PIPE, env=env)
        line = self.proc.stdout.readline().decode().split()
        if line[:1] != ["listening"]:
            raise RuntimeError(f"the seeded wire server did not start: {line}")
        self.url = f"mongodb://127.0.0.1:{line[1]}/?directConnection=true"

    def seed(self, db: str, collection: str, template: dict, count: int) -> None:
        request = {"db": db, "collection": collection, "template": template, "count": count}
        self.proc.stdin.write(json_util.dumps(request).encode() + b"\n")
        self.proc.stdin.flush()
        answer = self.proc.stdout.readline().decode().strip()
        if answer != f"seeded {count}":
            raise RuntimeError(f"seeding failed: {answer!r}")

    def stop(self) -> None:
        self.proc.terminate()
        self.proc.wait(timeout=10)


async def timed_get(http: aiohttp.ClientSession, url: str, headers: dict) -> tuple[int, float, dict]:
    start = time.perf_counter()
    async with http.get(url + FEED, headers=headers) as response:
        body = await response.json(content_type=None)
        return response.status, (time.perf_counter() - start) * 1000, body


def ids(body: dict) -> list[str]:
    return [p["_id"] for p in body.get("posts", [])]


async def prepare(stack: Stack) -> tuple[scenario.User, scenario.User]:
    async with aiohttp.ClientSession() as http:
        author = await scenario.signup(http, stack.url, 1)
        reader = await scenario.signup(http, stack.url, 2)
        await scenario.call(http, stack.url, Request.json("POST", f"{scenario.API}/post", scenario.post_body(0),
                                                          headers=author.auth))
    return author, reader


async def during_and_after(stack: Stack, reader: scenario.User, r, timeout: float) -> dict:
    headers = reader.auth
    async with aiohttp.ClientSession() as http:
        started = time.perf_counter()
        first = await asyncio.gather(*(timed_get(http, url, headers) for url in stack.urls))
        first_done_during = not r.exists("complete:posts")
        during: list[float] = [ms for _, ms, _ in first]
        statuses = {status for status, _, _ in first}
        n = 0
        while not r.exists("complete:posts"):
            if time.perf_counter() - started > timeout:
                raise RuntimeError(f"the posts index was not rebuilt in {timeout} s")
            status, ms, _ = await timed_get(http, stack.urls[n % len(stack.urls)], headers)
            statuses.add(status)
            during.append(ms)
            n += 1
            await asyncio.sleep(0.1)  # a reader every 100 ms, not a load test
        rebuilt_s = time.perf_counter() - started
        after = [await timed_get(http, stack.urls[i % len(stack.urls)], headers) for i in range(20)]
    return {
        "first": first, "first_during": first_done_during, "during_ms": during, "statuses": statuses,
        "rebuilt_s": rebuilt_s, "after": after,
    }


def main(argv: list[str] | None = None) -> None:
    p = argparse.ArgumentParser(prog="python -m bench.rebuild", description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--posts", type=int, default=100_000, help="posts MongoDB holds (default 100000)")
    p.add_argument("--timeout", type=float, default=600, help="seconds the rebuild may take (default 600)")
    p.add_argument("--json", metavar="FILE", help="also write the figures to FILE as JSON")
    args = p.parse_args(argv)

    mongo = SeededMongo()
    stack = Stack(log_level="WARNING", instances=2)
    stack.mongo_url = mongo.url
    try:
        with stack:
            author, reader = asyncio.run(prepare(stack))
            stack.drain(list(QUEUES))
            db = MongoClient(mongo.url)[stack.mongo_db]
            template = db["posts"].find_one({"userId": {"$exists": True}})
            say(f"seeding {args.posts} posts...")
            seeding = time.perf_counter()
            mongo.seed(stack.mongo_db, "posts", template, args.posts - 1)
            say(f"seeded in {time.perf_counter() - seeding:.1f} s; FLUSHALL")
            r = stack.redis()
            r.config_set("slowlog-log-slower-than", LOGGED_OVER_US)
            r.config_set("slowlog-max-len", 100_000)
            r.flushall()
            r.slowlog_reset()
            seen = asyncio.run(during_and_after(stack, reader, r, args.timeout))
            slow = r.slowlog_get(100_000)
            rebuilds = {k.decode(): int(v) for k, v in r.hgetall("stats:rebuilds").items()}
            listed = r.zcard("posts")
    finally:
        mongo.stop()

    after_ms = [ms for _, ms, _ in seen["after"]]
    first_pages = [ids(body) for _, _, body in seen["first"]]
    after_page = ids(seen["after"][0][2])
    worst = max(slow, key=lambda e: e["duration"], default=None)
    figures = {
        "posts": args.posts,
        "listed_after_rebuild": listed,
        "rebuild_seconds": round(seen["rebuilt_s"], 2),
        "first_page_ms": [round(ms, 1) for _, ms, _ in seen["first"]],
        "first_page_answered_during_rebuild": seen["first_during"],
        "first_page_status": [status for status, _, _ in seen["first"]],
        "pages_during_rebuild": len(seen["during_ms"]),
        "page_ms_during_rebuild_median": round(statistics.median(seen["during_ms"]), 1),
        "page_ms_after_rebuild_median": round(statistics.median(after_ms), 1),
        "statuses": sorted(seen["statuses"]),
        "pages_agree": all(page == after_page for page in first_pages) and len(after_page) > 0,
        "rebuilds_by_family": rebuilds,
        "redis_commands_over_1ms": len(slow),
        "redis_commands_over_10ms": sum(1 for e in slow if e["duration"] > BUDGET_US),
        "slowest_redis_command_ms": round(worst["duration"] / 1000, 2) if worst else 0.0,
        "slowest_redis_command": (worst["command"][:60].decode(errors="replace") if worst else ""),
        "redis_commands_over_1ms_by_name": dict(collections.Counter(
            " ".join(e["command"].decode(errors="replace").split()[:2]) for e in slow).most_common(5)),
    }
    figures["during_over_after"] = round(figures["page_ms_during_rebuild_median"]
                                         / figures["page_ms_after_rebuild_median"], 2)
    for name, value in figures.items():
        print(f"{name:38} {value}")
    if args.json:
        with open(args.json, "w") as f:
            json.dump(figures, f, indent=2)
    ok = (figures["first_page_status"] == [200, 200] and figures["pages_agree"]
          and figures["rebuilds_by_family"].get("posts") == 1 and figures["redis_commands_over_10ms"] == 0
          and listed == args.posts)
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    main()
