"""Load generators: wrk (with a Lua script cycling through prepared requests) or an aiohttp client.

Both take a list of `Request`s, run for `duration` seconds at `connections`
concurrent connections and return a `Result` (requests/s, p50, p99, errors).
"""
from __future__ import annotations

import asyncio
import math
import re
import shutil
import subprocess
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

import orjson


@dataclass(frozen=True)
class Request:
    method: str
    path: str
    headers: dict[str, str] = field(default_factory=dict)
    body: bytes = b""

    @staticmethod
    def json(method: str, path: str, data: object = None, headers: dict[str, str] | None = None) -> "Request":
        headers = dict(headers or {})
        if data is None:
            return Request(method, path, headers)
        return Request(method, path, {**headers, "Content-Type": "application/json"}, orjson.dumps(data))


@dataclass
class Result:
    rps: float
    p50_ms: float
    p99_ms: float
    requests: int = 0
    errors: int = 0

    def as_dict(self) -> dict:
        return {"rps": round(self.rps, 1), "p50_ms": round(self.p50_ms, 3), "p99_ms": round(self.p99_ms, 3),
                "requests": self.requests, "errors": self.errors}


def lua_string(value: str | bytes) -> str:
    """A Lua string literal for any bytes: printable ASCII kept, everything else as \\ddd."""
    raw = value.encode() if isinstance(value, str) else value
    out = []
    for byte in raw:
        char = chr(byte)
        out.append(char if 32 <= byte < 127 and char not in '"\\' else f"\\{byte:03d}")
    return '"' + "".join(out) + '"'


def lua_script(requests: list[Request]) -> str:
    """wrk script: requests are formatted once in init() and sent round-robin."""
    lines = ["local reqs = {}", "local n = 0", "init = function(args)"]
    for r in requests:
        headers = ", ".join(f"[{lua_string(k)}] = {lua_string(v)}" for k, v in r.headers.items())
        body = lua_string(r.body) if r.body else "nil"
        call = f"wrk.format({lua_string(r.method)}, {lua_string(r.path)}, {{{headers}}}, {body})"
        lines.append(f"  reqs[#reqs + 1] = {call}")
    lines += ["end", "request = function()", "  n = n % #reqs + 1", "  return reqs[n]", "end", ""]
    return "\n".join(lines)


_UNITS = {"us": 0.001, "ms": 1.0, "s": 1000.0, "m": 60_000.0, "h": 3_600_000.0}


def to_ms(text: str) -> float:
    number, unit = re.fullmatch(r"([\d.]+)(us|ms|s|m|h)", text.strip()).groups()
    return float(number) * _UNITS[unit]


def parse_wrk(output: str) -> Result:
    """Requests/s, the 50% and 99% latency lines (`--latency`), and non-2xx/3xx plus socket errors."""
    rps = re.search(r"Requests/sec:\s+([\d.]+)", output)
    p50 = re.search(r"^\s*50%\s+(\S+)", output, re.M)
    p99 = re.search(r"^\s*99%\s+(\S+)", output, re.M)
    if not (rps and p50 and p99):
        raise RuntimeError(f"cannot read wrk's output:\n{output}")
    total = re.search(r"(\d+) requests in", output)
    bad = re.search(r"Non-2xx or 3xx responses:\s+(\d+)", output)
    errors = int(bad.group(1)) if bad else 0
    sock = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", output)
    if sock:
        errors += sum(int(g) for g in sock.groups())
    return Result(float(rps.group(1)), to_ms(p50.group(1)), to_ms(p99.group(1)),
                  int(total.group(1)) if total else 0, errors)


def wrk_path() -> str | None:
    return shutil.which("wrk")


def run_wrk(url: str, requests: list[Request], duration: float, connections: int) -> Result:
    with tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False) as script:
        script.write(lua_script(requests))
    try:
        command = [wrk_path(), "-t1", f"-c{connections}", f"-d{max(1, round(duration))}s", "--latency",
                   "--timeout", "10s", "-s", script.name, url]
        done = subprocess.run(command, capture_output=True, text=True, timeout=duration + 60)
        if done.returncode:
            raise RuntimeError(f"wrk failed: {done.stderr or done.stdout}")
        return parse_wrk(done.stdout)
    finally:
        Path(script.name).unlink(missing_ok=True)


def percentile(sorted_values: list[float], p: float) -> float:
    """Nearest-rank percentile of sorted values."""
    if not sorted_values:
        return 0.0
    return sorted_values[min(len(sorted_values), max(1, math.ceil(p / 100 * len(sorted_values)))) - 1]


async def run_client(url: str, requests: list[Request], duration: float, connections: int) -> Result:
    """The fallback when wrk is absent: `connections` coroutines, each sending one request at a time."""
    import aiohttp

    latencies: list[float] = []
    errors = 0
    counter = 0
    stop_at = time.perf_counter() + duration

    async def loop(session: aiohttp.ClientSession) -> None:
        nonlocal errors, counter
        while time.perf_counter() < stop_at:
            r = requests[counter % len(requests)]
            counter += 1
            start = time.perf_counter()
            try:
                async with session.request(r.method, url + r.path, headers=r.headers, data=r.body or None) as resp:
                    await resp.read()
                    if resp.status >= 400:
                        errors += 1
            except aiohttp.ClientError:
                errors += 1
            latencies.append((time.perf_counter() - start) * 1000)

    connector = aiohttp.TCPConnector(limit=connections)
    async with aiohttp.ClientSession(connector=connector) as session:
        began = time.perf_counter()
        await asyncio.gather(*(loop(session) for _ in range(connections)))
        elapsed = time.perf_counter() - began
    latencies.sort()
    return Result(len(latencies) / elapsed, percentile(latencies, 50), percentile(latencies, 99), len(latencies),
                  errors)


def measure(url: str, requests: list[Request], duration: float, connections: int, use_wrk: bool = True) -> Result:
    if use_wrk and wrk_path():
        return run_wrk(url, requests, duration, connections)
    return asyncio.run(run_client(url, requests, duration, connections))
