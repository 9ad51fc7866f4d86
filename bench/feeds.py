"""Home-feed fan-out: what a big following costs the API, how fast posts reach the feeds, and what
a feed entry costs Redis.

`python -m bench.feeds [--followers 10000]` starts its own stack (bench/stack.py) and:
1. signs up two authors (one with no followers) and gives the other `--followers` followers,
   each with a built home feed and active today — written into Redis as the graph and the
   feeds keep them (signing 10,000 users up would measure bcrypt, not the fan-out);
2. measures create post for each author with wrk, interleaved over `--rounds`, the workers
   stopped (the API alone); the API's latency must not grow with the follower count
   (target: p50 within 1.1x);
3. with two worker processes on the `feed` queue, creates one post by the big author and times
   until it is in every follower's feed (target: 10 s);
4. measures MEMORY USAGE of feeds of 100 and of 800 entries (FEED_CAP), per entry.
"""
from __future__ import annotations

import argparse
import asyncio
import sys
import time

import aiohttp
from bson import ObjectId

from bench import load, scenario
from bench.load import Request
from bench.stack import Stack, cpu_split

TARGET_LATENCY = 1.1
TARGET_DELIVERY_S = 10.0


def say(text: str) -> None:
    print(text, file=sys.stderr, flush=True)


def seed_followers(stack: Stack, author: str, count: int) -> list[str]:
    r = stack.redis()
    now = time.time() * 1000
    followers = [str(ObjectId()) for _ in range(count)]
    with r.pipeline(transaction=False) as pipe:
        for n, follower in enumerate(followers):
            pipe.zadd(f"followers:{author}", {follower: now - count + n})
            pipe.zadd(f"following:{follower}", {author: now - count + n})
            pipe.set(f"complete:home:{follower}", 1)
            pipe.set(f"complete:follows:{follower}", 1)
            pipe.zadd("active", {follower: now})
        pipe.set(f"complete:follows:{author}", 1)
        pipe.execute()
    return followers


def measure_writes(stack: Stack, authors: dict[str, scenario.User], args) -> dict:
    out: dict = {}
    for _ in range(args.rounds):
        for label, user in authors.items():
            requests = [Request.json("POST", f"{scenario.API}/post", scenario.post_body(n), user.auth)
                        for n in range(scenario.VARIANTS)]
            load.measure(stack.url, requests, 1, args.connections, True)
            figures = load.measure(stack.url, requests, args.duration, args.connections, True).as_dict()
            if label not in out or figures["p50_ms"] < out[label]["p50_ms"]:
                out[label] = figures
    return out


def measure_delivery(stack: Stack, author: scenario.User, followers: list[str]) -> dict:
    r = stack.redis()
    r.delete("rq:queue:feed")
    workers = [stack._spawn([sys.executable, "-m", "bench.worker", "--threads", "1", "--queues", "feed"],
                            f"feed-worker-{n}.log") for n in range(2)]
    try:
        time.sleep(2)  # both workers listening
        start = time.perf_counter()
        body = asyncio.run(_post(stack.url, author))
        post_id = body["post"]["_id"]
        missing = followers
        while missing:
            if time.perf_counter() - start > 120:
                raise RuntimeError(f"{len(missing)} feeds still lack the post after 120 s")
            with r.pipeline(transaction=False) as pipe:
                for follower in missing:
                    pipe.zscore(f"home:{follower}", post_id)
                found = pipe.execute()
            missing = [f for f, score in zip(missing, found) if score is None]
            if missing:
                time.sleep(0.02)
        seconds = time.perf_counter() - start
    finally:
        for proc in workers:
            stack.stop(proc)
    return {"followers": len(followers), "seconds": round(seconds, 3), "worker_processes": 2,
            "meets_target": seconds <= TARGET_DELIVERY_S}


async def _post(url: str, author: scenario.User) -> dict:
    async with aiohttp.ClientSession() as http:
        return await scenario.call(http, url, Request.json("POST", f"{scenario.API}/post", scenario.post_body(0),
                                                           author.auth))


def measure_memory(stack: Stack) -> dict:
    """Bytes per entry of a feed of 100 and of 800 (Redis's default encodings), and of 800 with
    zset-max-listpack-entries 1024 (the README's suggestion)."""
    r = stack.redis()
    out = {}
    for label, size, listpack in (("100", 100, 128), ("800", 800, 128), ("800 as listpack", 800, 1024)):
        r.config_set("zset-max-listpack-entries", listpack)
        key = f"bench:feed:{label}"
        now = time.time() * 1000
        r.zadd(key, {str(ObjectId()): now + n + 0.123 for n in range(size)})
        out[label] = round(r.memory_usage(key, samples=0) / size, 1)
        r.delete(key)
    r.config_set("zset-max-listpack-entries", 128)
    return out


def main(argv: list[str] | None = None) -> None:
    p = argparse.ArgumentParser(prog="python -m bench.feeds", description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--followers", type=int, default=10_000)
    p.add_argument("--duration", type=float, default=5)
    p.add_argument("--rounds", type=int, default=3)
    p.add_argument("--connections", type=int, default=32)
    args = p.parse_args(argv)
    api_cpu, others = cpu_split()
    if others:
        import os

        os.sched_setaffinity(0, others)
    with Stack(api_cpu, log_level="WARNING") as stack:
        say("bench.feeds: signing up the authors...")
        world = asyncio.run(scenario.setup(stack.url, 2, chat=False))
        big, none = world.users
        say(f"bench.feeds: {args.followers} followers with built feeds...")
        followers = seed_followers(stack, big.id, args.followers)
        say("bench.feeds: create post, with and without followers (workers stopped)...")
        writes = measure_writes(stack, {f"{args.followers} followers": big, "no followers": none}, args)
        say("bench.feeds: one post to every follower's feed, two worker processes...")
        delivery = measure_delivery(stack, big, followers)
        memory = measure_memory(stack)
    with_, without = writes[f"{args.followers} followers"], writes["no followers"]
    ratio = round(with_["p50_ms"] / without["p50_ms"], 3)
    print(f"create post, author with {args.followers} followers: {with_['rps']:.0f} req/s, p50 {with_['p50_ms']:.2f} ms, "
          f"p99 {with_['p99_ms']:.2f} ms")
    print(f"create post, author with none:            {without['rps']:.0f} req/s, p50 {without['p50_ms']:.2f} ms, "
          f"p99 {without['p99_ms']:.2f} ms")
    print(f"p50 ratio {ratio} (target <= {TARGET_LATENCY}): {'ok' if ratio <= TARGET_LATENCY else 'MISSED'}")
    print(f"one post in all {delivery['followers']} feeds after {delivery['seconds']:.2f} s with two worker "
          f"processes (target <= {TARGET_DELIVERY_S:g} s): {'ok' if delivery['meets_target'] else 'MISSED'}")
    print(f"Redis memory per feed entry: {memory['100']} B in a feed of 100, {memory['800']} B in a feed of 800, "
          f"{memory['800 as listpack']} B in a feed of 800 with zset-max-listpack-entries 1024")


if __name__ == "__main__":
    main()
