"""Socket.IO fan-out: N clients on two API instances sharing one Redis; time from emit to receipt.

`python -m bench.fanout [--clients 1000]` (or `python -m bench --fanout`)
starts redis-server and two API processes, connects the clients from
several client processes (half to each instance), then asks the instances,
in turn, to broadcast a timestamped event (`/bench/fanout` in the bench
app, which emits through the Redis manager like every real event). Each
client records now - the emit's timestamp; p50/p99 are over every receipt.
"""
from __future__ import annotations

import argparse
import asyncio
import gc
import json
import subprocess
import sys
import time

import aiohttp

from bench.app import FANOUT_EVENT
from bench.load import percentile
from bench.stack import Stack

READY = "ready"
TARGET_P99_MS = 250


async def tokens(urls: list[str], count: int, offset: int) -> list[str]:
    """Sign up `count` users (every socket needs a live session: a made-up token is a guest's)."""
    from bench.scenario import signup

    gate = asyncio.Semaphore(20)

    async def one(n: int) -> str:
        async with gate:
            return (await signup(http, urls[n % len(urls)], offset + n)).token

    async with aiohttp.ClientSession() as http:
        return list(await asyncio.gather(*(one(n) for n in range(count))))


async def client_main(urls: list[str], count: int, offset: int, expect: int) -> None:
    """One client process: connect `count` sockets, report ready, collect latencies of `expect` events."""
    import socketio

    latencies: list[float] = []
    seen = 0
    done = asyncio.Event()

    def make() -> socketio.AsyncClient:
        sio = socketio.AsyncClient(reconnection=False)

        @sio.on(FANOUT_EVENT)
        async def on_event(data):
            nonlocal seen
            latencies.append((time.time() - data["t"]) * 1000)
            seen += 1
            if seen >= expect * count:
                done.set()

        return sio

    clients = [make() for _ in range(count)]
    gate = asyncio.Semaphore(20)

    async def connect(n: int, sio, token: str) -> None:
        async with gate:
            await sio.connect(urls[(offset + n) % len(urls)], transports=["websocket"], auth={"token": token},
                              wait_timeout=30)

    signed_in = await tokens(urls, count, offset)
    await asyncio.gather(*(connect(n, c, t) for n, (c, t) in enumerate(zip(clients, signed_in))))
    gc.collect()
    gc.freeze()  # the clients' own collections must not show up as fan-out latency
    print(READY, flush=True)
    try:
        await asyncio.wait_for(done.wait(), timeout=60 + expect * 2)
    except asyncio.TimeoutError:
        pass
    print(json.dumps({"latencies": latencies, "missing": expect * count - seen}), flush=True)
    await asyncio.gather(*(c.disconnect() for c in clients), return_exceptions=True)


async def trigger(urls: list[str], events: int, interval: float) -> None:
    async with aiohttp.ClientSession() as http:
        for seq in range(events):
            async with http.post(f"{urls[seq % len(urls)]}/bench/fanout", json={"seq": seq}) as response:
                response.raise_for_status()
            await asyncio.sleep(interval)


def run(clients: int = 1000, processes: int = 4, events: int = 20, interval: float = 0.25, settle: float = 1,
        log_level: str = "WARNING") -> dict:
    """Start the stack, connect, broadcast `events` times, return p50/p99 (ms) over all receipts."""
    with Stack(None, log_level=log_level, instances=2) as stack:
        per = [clients // processes + (1 if n < clients % processes else 0) for n in range(processes)]
        procs = []
        offset = 0
        started = time.monotonic()
        for count in per:
            procs.append(subprocess.Popen(
                [sys.executable, "-m", "bench.fanout", "client", "--count", str(count),
                 "--offset", str(offset), "--expect", str(events), *[a for u in stack.urls for a in ("--url", u)]],
                stdout=subprocess.PIPE, text=True, env=stack.env()))
            offset += count
        try:
            for proc in procs:
                line = proc.stdout.readline().strip()
                if line != READY:
                    raise RuntimeError(f"a fan-out client process failed: {line or proc.wait()}")
            connected_s = time.monotonic() - started
            time.sleep(settle)  # the "user online" broadcasts of the last connections go out first
            asyncio.run(trigger(stack.urls, events, interval))
            latencies, missing = [], 0
            for proc in procs:
                result = json.loads(proc.stdout.readline())
                latencies += result["latencies"]
                missing += result["missing"]
                proc.wait(30)
        finally:
            for proc in procs:
                if proc.poll() is None:
                    proc.kill()
                    proc.wait()
    latencies.sort()
    return {"clients": clients, "instances": 2, "client_processes": processes, "events": events,
            "receipts": len(latencies), "missing": missing, "connect_s": round(connected_s, 1),
            "p50_ms": round(percentile(latencies, 50), 2), "p99_ms": round(percentile(latencies, 99), 2),
            "max_ms": round(latencies[-1], 2) if latencies else None,
            "meets_target": not missing and bool(latencies) and percentile(latencies, 99) <= TARGET_P99_MS}


def main(argv: list[str] | None = None) -> None:
    argv = sys.argv[1:] if argv is None else argv
    if argv[:1] == ["client"]:
        p = argparse.ArgumentParser(prog="python -m bench.fanout client")
        p.add_argument("--url", action="append", required=True)
        p.add_argument("--count", type=int, required=True)
        p.add_argument("--offset", type=int, default=0)
        p.add_argument("--expect", type=int, required=True)
        a = p.parse_args(argv[1:])
        asyncio.run(client_main(a.url, a.count, a.offset, a.expect))
        return
    p = argparse.ArgumentParser(prog="python -m bench.fanout", description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--clients", type=int, default=1000, help="Socket.IO clients (default 1000)")
    p.add_argument("--processes", type=int, default=4, help="client processes (default 4)")
    p.add_argument("--events", type=int, default=20, help="broadcasts to time (default 20)")
    p.add_argument("--settle", type=float, default=1, help="seconds between the last connection and the first emit")
    p.add_argument("--json", metavar="FILE", help="also write the figures to FILE as JSON")
    a = p.parse_args(argv)
    result = run(a.clients, a.processes, a.events, settle=a.settle)
    print(f"Socket.IO fan-out to {result['clients']} clients on 2 instances ({result['receipts']} receipts, "
          f"{result['missing']} missing; connected in {result['connect_s']} s): p50 {result['p50_ms']} ms, "
          f"p99 {result['p99_ms']} ms, max {result['max_ms']} ms (target p99 <= {TARGET_P99_MS} ms)")
    if a.json:
        with open(a.json, "w") as f:
            json.dump({"fanout": result}, f, indent=2)


if __name__ == "__main__":
    main()
