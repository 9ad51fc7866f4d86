"""`mysocial dev`: the whole stack in one process, with embedded defaults.

Redis: REDIS_URL if set, else a `redis-server` from PATH on a free port, else
an in-process fake (with a warning). MongoDB: MONGO_URL if set, else an
in-memory stand-in, which is why workers and the scheduler run here as
threads: they must share it with the API.
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


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_redis_server(binary: str, folder: Path, durable: bool) -> str:
    """A redis-server on a free port; append-only in `folder` only when MongoDB is durable too
    (a Redis that outlived an in-memory MongoDB would remember users the store forgot)."""
    port = free_port()
    folder.mkdir(parents=True, exist_ok=True)
    proc = subprocess.Popen(
        [binary, "--port", str(port), "--bind", "127.0.0.1", "--dir", str(folder.resolve()),
         "--appendonly", "yes" if durable else "no", "--appendfsync", "everysec", "--save", "",
         "--maxmemory-policy", "volatile-lru"],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )
    atexit.register(proc.terminate)
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


def start_fake_redis() -> str:
    from fakeredis import TcpFakeServer

    port = free_port()
    server = TcpFakeServer(("127.0.0.1", port), server_type="redis")
    threading.Thread(target=server.serve_forever, daemon=True, name="fake-redis").start()
    return f"redis://127.0.0.1:{port}/0"


def embedded_redis(durable: bool) -> str:
    binary = shutil.which("redis-server")
    if binary:
        url = start_redis_server(binary, STATE / "redis", durable)
        log.info("started redis-server at %s (%s)", url,
                 f"append-only file in {STATE / 'redis'}" if durable else "in memory, like the store")
        return url
    log.warning("no redis-server on PATH and REDIS_URL unset: using an in-process fake Redis "
                "(install redis-server for real behaviour)")
    return start_fake_redis()


def start(settings: Settings, workers: int = 2) -> Settings:
    """Fill in embedded defaults, start worker and scheduler threads; return the settings to serve."""
    if "REDIS_URL" not in os.environ:
        settings = settings.with_(redis_url=embedded_redis(durable=not settings.memory_mongo))
    if settings.memory_mongo:
        log.warning("MONGO_URL unset: MongoDB is an in-memory stand-in; data is lost when this process stops")
    if not settings.cloudinary_url:
        log.info("media files are stored under %s and served at %s/media/", settings.media_dir, settings.api_url)
    if not settings.sendgrid_api_key:
        log.info("e-mails are written to the outbox folder %s", settings.outbox_dir)

    from workers import runner, scheduler

    for n in range(workers):
        threading.Thread(target=runner.make_worker(settings, name=f"dev-worker-{os.getpid()}-{n}").work,
                         kwargs={"logging_level": "WARNING"}, daemon=True, name=f"worker-{n}").start()
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
