"""`mysocial dev`: the whole stack in one command, with embedded defaults that keep their data.

Redis: REDIS_URL if set, else a `redis-server` from PATH with its append-only
file under `.mysocial/redis`. MongoDB: MONGO_URL if set, else the wire server
(mysocial.mongoserver) on its SQLite engine, `.mysocial/mongo/mysocial.sqlite`.
Both embedded stores are durable together, so a restart finds every account
and post as it was; `--fresh` starts empty. Workers and the scheduler run as
threads of this process.
"""
from __future__ import annotations

import atexit
import logging
import os
import shutil
import socket
import subprocess
import threading
import time
from pathlib import Path

from mysocial.config import Settings

log = logging.getLogger("mysocial.dev")
STATE = Path(".mysocial")
NO_REDIS = ("no redis-server on PATH and REDIS_URL unset: install it (apt-get install redis-server; "
            "`make dev` does) or set REDIS_URL")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_redis_server(binary: str, folder: Path) -> str:
    """A redis-server on a free port, append-only in `folder`; stopped (its file complete) at exit."""
    port = free_port()
    folder.mkdir(parents=True, exist_ok=True)
    proc = subprocess.Popen(
        [binary, "--port", str(port), "--bind", "127.0.0.1", "--dir", str(folder.resolve()),
         "--appendonly", "yes", "--appendfsync", "everysec", "--save", "",
         "--maxmemory-policy", "volatile-lru"],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )
    atexit.register(stop_process, proc)
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
            return f"redis://127.0.0.1:{port}/0"
        except OSError:
            if proc.poll() is not None:
                break
            time.sleep(0.05)
    raise RuntimeError("redis-server did not start")


def finish_jobs(workers: list, grace: float = 30) -> None:
    """Let the worker threads finish the jobs they run, and start no other, before Redis and
    MongoDB stop. Waiting for RQ's BUSY state is not enough: a worker that has just dequeued a
    job is still IDLE, and would run it against stopped stores."""
    deadline = time.monotonic() + grace
    for worker in workers:
        worker._stop_requested = True  # RQ's request_stop is for a worker's own main thread
    for worker in workers:
        worker.running.acquire(timeout=max(0.0, deadline - time.monotonic()))


def stop_process(proc: subprocess.Popen, grace: float = 15) -> None:
    """SIGTERM, then SIGKILL if it has not exited within `grace` seconds."""
    if proc.poll() is None:
        proc.terminate()
        try:
            proc.wait(grace)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def embedded_redis() -> str:
    binary = shutil.which("redis-server")
    if not binary:
        raise SystemExit(f"mysocial dev: {NO_REDIS}")
    url = start_redis_server(binary, STATE / "redis")
    log.info("started redis-server at %s (append-only file in %s)", url, (STATE / "redis").resolve())
    return url


def embedded_mongo() -> str:
    from mysocial import mongoserver

    path = STATE / "mongo" / "mysocial.sqlite"
    server = mongoserver.MongoServer("sqlite", path.resolve())
    try:
        url = server.start()
    except RuntimeError as exc:
        raise SystemExit(f"mysocial dev: {exc}") from None
    atexit.register(server.stop)
    log.info("started the MongoDB wire server at %s (data in %s)", url, path.resolve())
    return url


def start(settings: Settings, workers: int = 2, fresh: bool = False) -> Settings:
    """Fill in embedded defaults, start worker and scheduler threads; return the settings to serve."""
    if fresh:
        for folder in (STATE / "redis", STATE / "mongo"):
            shutil.rmtree(folder, ignore_errors=True)
        log.info("--fresh: starting with empty data")
    if "REDIS_URL" not in os.environ:
        settings = settings.with_(redis_url=embedded_redis())
    if not settings.mongo_url:
        settings = settings.with_(mongo_url=embedded_mongo())
    if not settings.cloudinary_url:
        log.info("media files are stored under %s and served at %s/media/", settings.media_dir, settings.api_url)
    if not settings.sendgrid_api_key:
        log.info("e-mails are written to the outbox folder %s", settings.outbox_dir)
    log.info("to make a user an admin, while this runs: REDIS_URL=%s MONGO_URL=%s mysocial admin grant USERNAME admin",
             settings.redis_url, settings.mongo_url)

    from workers import runner, scheduler

    made = [runner.make_worker(settings, name=f"dev-worker-{os.getpid()}-{n}") for n in range(workers)]
    for n, worker in enumerate(made):
        threading.Thread(target=worker.work, kwargs={"logging_level": "WARNING"}, daemon=True, name=f"worker-{n}").start()
    atexit.register(finish_jobs, made)  # runs before the embedded stores stop (atexit is last in, first out)
    threading.Thread(target=scheduler.make(settings).run, daemon=True, name="scheduler").start()
    start_dashboard(settings)
    return settings


def start_dashboard(settings: Settings) -> None:
    from mysocial import dashboard

    port = settings.port + 1
    username, password = dashboard.credentials(settings)
    app = dashboard.make(settings, username, password)
    threading.Thread(target=app.run, kwargs={"host": "127.0.0.1", "port": port, "use_reloader": False},
                     daemon=True, name="dashboard").start()
    log.info("rq-dashboard at http://127.0.0.1:%s/", port)
