"""The processes one bench run needs: redis-server, the API (one process, its own core), the
ceiling app (bench/bare.py, on the API's core too), workers.

MongoDB is MONGO_URL when set (a throwaway database on it), else the wire
server (mysocial.mongoserver, memory engine) started for the run. The API gets
one core; redis-server, the MongoDB server, the workers, the load generator and
this process share the other.
"""
from __future__ import annotations

import os
import secrets
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import redis

from mysocial.dev import free_port, stop_process

ROOT = Path(__file__).resolve().parents[1]
HUGE = str(10**9)  # rate limits stay in the request path (as in production) but never bind


def cpu_split() -> tuple[int | None, set[int] | None]:
    """(the API's CPU, everyone else's CPUs), or (None, None) when there is only one CPU."""
    if not hasattr(os, "sched_getaffinity"):
        return None, None
    cpus = sorted(os.sched_getaffinity(0))
    if len(cpus) < 2:
        return None, None
    return cpus[0], set(cpus[1:])


def cpu_seconds(pid: int) -> float:
    """User + system CPU time a process (all its threads) has used; 0 where /proc is missing."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            fields = f.read().rpartition(")")[2].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def wait_port(port: int, proc: subprocess.Popen, what: str, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"{what} exited with {proc.returncode}")
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
            return
        except OSError:
            time.sleep(0.05)
    raise RuntimeError(f"{what} did not listen on {port}")


class Stack:
    """Start with `with Stack(...) as stack:`; every process it started is stopped on exit."""

    def __init__(self, api_cpu: int | None = None, log_level: str = "INFO", instances: int = 1,
                 ceiling: bool = False):
        """`ceiling`: also start the ceiling app (bench/bare.py)."""
        self.ceiling = ceiling
        self.api_cpu = api_cpu
        self.log_level = log_level
        self.instances = instances
        self.folder = Path(tempfile.mkdtemp(prefix="mysocial-bench-"))
        self.procs: list[subprocess.Popen] = []
        self.api_procs: list[subprocess.Popen] = []
        self.bare: subprocess.Popen | None = None
        self.bare_port = 0
        self.workers: list[subprocess.Popen] = []
        self.threads = 0
        self.ports: list[int] = []
        self.jwt_secret = secrets.token_urlsafe(48)
        self.mongo_db = f"bench_{secrets.token_hex(4)}"
        self.mongo_url = os.environ.get("MONGO_URL") or ""
        self.redis_url = ""
        self.redis_proc: subprocess.Popen | None = None
        self.mongo_server = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.ports[0]}"

    @property
    def bare_url(self) -> str:
        return f"http://127.0.0.1:{self.bare_port}"

    @property
    def urls(self) -> list[str]:
        return [f"http://127.0.0.1:{p}" for p in self.ports]

    @property
    def mongo(self) -> str:
        return "MONGO_URL" if os.environ.get("MONGO_URL") else "the MongoDB wire server (memory engine)"

    def env(self, **extra: str) -> dict[str, str]:
        env = {k: v for k, v in os.environ.items() if k not in ("NODE_ENV", "MYSOCIAL_ENV")}
        env.update(
            PYTHONPATH=os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH", "")])),
            MYSOCIAL_ENV="bench", REDIS_URL=self.redis_url, MONGO_URL=self.mongo_url, MONGO_DB=self.mongo_db,
            JWT_SECRET=self.jwt_secret, SECRET_KEY_ONE="bench-cookie-key", RATE_LIMIT=HUGE, AUTH_RATE_LIMIT=HUGE, SOCKET_RATE_LIMIT=HUGE,
            BCRYPT_ROUNDS="4", MEDIA_DIR=str(self.folder / "media"), OUTBOX_DIR=str(self.folder / "outbox"),
            LOG_LEVEL=self.log_level, LOG_FORMAT="json", HOST="127.0.0.1", **extra,
        )
        return env

    def _spawn(self, args: list[str], log: str, **extra: str) -> subprocess.Popen:
        out = open(self.folder / log, "ab")
        proc = subprocess.Popen(args, env=self.env(**extra), stdout=subprocess.PIPE if log.endswith(".out") else out,
                                stderr=out, cwd=self.folder)
        self.procs.append(proc)
        return proc

    def start_redis(self) -> None:
        binary = shutil.which("redis-server")
        if not binary:
            raise SystemExit("bench: redis-server is not installed")
        port = free_port()
        proc = self._spawn([binary, "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
                            "--dir", str(self.folder)], "redis.log")
        wait_port(port, proc, "redis-server")
        self.redis_proc = proc
        self.redis_url = f"redis://127.0.0.1:{port}/0"

    def start_mongo(self) -> None:
        if self.mongo_url:
            return
        from mysocial.mongoserver import MongoServer

        self.mongo_server = MongoServer("memory")
        self.mongo_url = self.mongo_server.start()

    def start_api(self) -> None:
        for n in range(self.instances):
            port = free_port()
            args = [sys.executable, "-m", "bench.server"]
            if self.api_cpu is not None:
                args += ["--cpu", str(self.api_cpu)]
            proc = self._spawn(args, f"api-{n}.log", PORT=str(port), API_URL=f"http://127.0.0.1:{port}",
                               INSTANCE_NAME=f"bench-api-{n}")
            wait_port(port, proc, "the API")
            self.api_procs.append(proc)
            self.ports.append(port)

    def start_bare(self) -> None:
        """The ceiling app, pinned to the API's core (it is measured while the API is idle)."""
        port = free_port()
        args = [sys.executable, "-m", "bench.bare"] + (["--cpu", str(self.api_cpu)] if self.api_cpu is not None else [])
        self.bare = self._spawn(args, "bare.log", PORT=str(port))
        wait_port(port, self.bare, "the ceiling app")
        self.bare_port = port

    def start_workers(self, threads: int = 2, delay_ms: float = 0, processes: int = 1) -> None:
        """`processes` worker processes of `threads` threads each."""
        self.stop_workers()
        self.threads = threads
        self.workers = [self._spawn([sys.executable, "-m", "bench.worker", "--threads", str(threads),
                                     "--delay-ms", str(delay_ms)], "worker.log") for _ in range(processes)]

    def wait_workers(self, timeout: float = 30) -> None:
        """Until every started worker thread has registered with RQ (imports and connections done)."""
        r, wanted = self.redis(), len(self.workers) * self.threads
        deadline = time.monotonic() + timeout
        while r.scard("rq:workers") < wanted and time.monotonic() < deadline:
            if not self.workers_alive():
                raise RuntimeError(f"a bench worker exited:\n{self.log_tail('worker.log')}")
            time.sleep(0.05)

    def workers_cpu_seconds(self) -> float:
        return sum(cpu_seconds(w.pid) for w in self.workers)

    def mongo_cpu_seconds(self) -> float | None:
        """The MongoDB wire server's CPU time so far; None for a MONGO_URL server (not ours to measure)."""
        return cpu_seconds(self.mongo_server.proc.pid) if self.mongo_server is not None else None

    def stored(self, collection: str) -> int:
        """How many documents `collection` holds (the `count` command: an aggregation over
        100,000 posts exceeds the wire server's materialization budget)."""
        from pymongo import MongoClient

        with MongoClient(self.mongo_url) as client:
            return client[self.mongo_db][collection].estimated_document_count()

    def workers_alive(self) -> bool:
        return all(w.poll() is None for w in self.workers)

    def stop_workers(self) -> None:
        for worker in self.workers:
            self.stop(worker)
        self.workers = []

    def drain(self, queues: list[str], threads: int = 1) -> dict:
        """Run a burst worker on `queues` (on any CPU); returns {"jobs": n, "seconds": s}."""
        import json

        proc = self._spawn([sys.executable, "-m", "bench.worker", "--burst", "--threads", str(threads),
                            "--queues", ",".join(queues)], "drain.out")
        if hasattr(os, "sched_setaffinity"):
            os.sched_setaffinity(proc.pid, range(os.cpu_count() or 1))  # the API is idle meanwhile
        out, _ = proc.communicate(timeout=600)
        if proc.returncode:
            raise RuntimeError(f"burst worker failed; see {self.folder / 'drain.out'}")
        return json.loads(out.decode().strip().splitlines()[-1])

    def api_cpu_seconds(self, bare: bool = False) -> float:
        """CPU time used so far by the API processes (or by the ceiling app)."""
        return cpu_seconds(self.bare.pid) if bare and self.bare else sum(cpu_seconds(p.pid) for p in self.api_procs)

    def redis_cpu_seconds(self) -> float:
        return cpu_seconds(self.redis_proc.pid) if self.redis_proc else 0.0

    def redis(self) -> redis.Redis:
        return redis.Redis.from_url(self.redis_url)

    def stop(self, proc: subprocess.Popen) -> None:
        stop_process(proc)

    def log_tail(self, name: str, lines: int = 20) -> str:
        path = self.folder / name
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:]) if path.exists() else ""

    def __enter__(self) -> "Stack":
        try:
            self.start_redis()
            self.start_mongo()
            self.start_api()
            if self.ceiling:
                self.start_bare()
        except BaseException:
            self.__exit__()
            raise
        return self

    def __exit__(self, *exc) -> None:
        for proc in reversed(self.procs):
            self.stop(proc)
        if self.mongo_server is not None:
            self.mongo_server.stop()
        if os.environ.get("MONGO_URL"):
            from pymongo import MongoClient

            MongoClient(os.environ["MONGO_URL"]).drop_database(self.mongo_db)
        shutil.rmtree(self.folder, ignore_errors=True)
