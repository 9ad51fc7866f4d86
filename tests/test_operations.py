"""Rate limits, metrics, structured logs, graceful shutdown."""
from __future__ import annotations

import asyncio
import io
import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from mysocial.app import create_app
from mysocial.core import logs
from mysocial.dev import free_port
from tests.conftest import PNG, signup

ROOT = Path(__file__).resolve().parents[1]


async def test_signin_limit_answers_429_with_retry_after(aiohttp_client, settings, r):
    client = await aiohttp_client(create_app(settings.with_(auth_rate_limit=5)))
    for _ in range(5):
        response = await client.post("/api/v1/signin", json={"username": "nobody", "password": "secret1"})
        assert response.status == 400
    response = await client.post("/api/v1/signin", json={"username": "nobody", "password": "secret1"})
    assert response.status == 429
    assert await response.json() == {"message": "Too many requests. Please try again later.",
                                     "statusCode": 429, "status": "error"}
    assert 1 <= int(response.headers["Retry-After"]) <= 62
    assert (await client.get("/health")).status == 200, "probes are never limited"


async def test_default_limit_is_per_user(aiohttp_client, settings):
    client = await aiohttp_client(create_app(settings.with_(rate_limit=3)))
    alice = await signup(client, "alice")
    bobby = await signup(client, "bobby")
    statuses = [(await client.get("/api/v1/user/profile", headers={"Authorization": f"Bearer {alice['token']}"})).status
                for _ in range(4)]
    assert statuses == [200, 200, 200, 429]
    response = await client.get("/api/v1/user/profile", headers={"Authorization": f"Bearer {bobby['token']}"})
    assert response.status == 200, "another user has a budget of their own"


def metric(text: str, series: str) -> float:
    """The value of one series in a Prometheus text exposition (0 when absent)."""
    for line in text.splitlines():
        if line.startswith(series + " "):
            return float(line.rsplit(" ", 1)[1])
    return 0.0


async def test_metrics_report_routes_cache_queues_and_ledger(client, settings, drain):
    signups = 'mysocial_http_request_duration_seconds_count{method="POST",route="/api/v1/signup",status="201"}'
    hits = 'mysocial_cache_requests_total{result="hit"}'
    before = await (await client.get("/metrics")).text()
    await signup(client, "alice")
    await client.get("/api/v1/user/profile")
    text = await (await client.get("/metrics")).text()
    assert metric(text, signups) == metric(before, signups) + 1
    assert metric(text, hits) == metric(before, hits) + 2, "the caller's session, then the profile"
    assert metric(text, 'mysocial_queue_depth{queue="auth"}') == 1, "one job for the sign-up's documents"
    assert metric(text, "mysocial_pending_writes") == 3, "auth, user and session"
    await drain()
    text = await (await client.get("/metrics")).text()
    assert metric(text, "mysocial_pending_writes") == 0 and metric(text, 'mysocial_queue_depth{queue="auth"}') == 0


async def test_metrics_token(aiohttp_client, settings):
    client = await aiohttp_client(create_app(settings.with_(metrics_token="s3cret")))
    assert (await client.get("/metrics")).status == 401
    assert (await client.get("/metrics", headers={"Authorization": "Bearer s3cret"})).status == 200


async def test_request_id_in_header_and_json_log(client, monkeypatch):
    sink = io.BytesIO()
    monkeypatch.setattr(logs.ACCESS, "stream", sink)
    response = await client.get("/health", headers={"X-Request-Id": "abc-123"})
    assert response.headers["X-Request-Id"] == "abc-123"
    response = await client.get("/health", headers={"X-Request-Id": "bad id <script>"})
    generated = response.headers["X-Request-Id"]
    assert len(generated) == 32
    logs.ACCESS.flush()
    lines = [json.loads(line) for line in sink.getvalue().splitlines()]
    assert lines[0]["requestId"] == "abc-123" and lines[0]["status"] == 200 and lines[0]["route"] == "/health"
    assert lines[0]["logger"] == "mysocial.access" and lines[0]["message"] == "request" and lines[0]["level"] == "info"
    assert lines[0]["method"] == "GET" and lines[0]["path"] == "/health" and lines[0]["time"].endswith("Z")
    assert lines[1]["requestId"] == generated and len(lines) == 2


def _serve(tmp_path, settings, port, *args: str, **env: str):
    """`mysocial serve` (with `args`) in a process of its own, its output piped; `env` on top."""
    env = {**os.environ, "PORT": str(port), "REDIS_URL": settings.redis_url, "MONGO_URL": settings.mongo_url,
           "MONGO_DB": settings.mongo_db, "PYTHONPATH": str(ROOT),
           "LOG_LEVEL": "INFO", "MEDIA_DIR": str(tmp_path / "media"), "BCRYPT_ROUNDS": "4", **env}
    return subprocess.Popen([sys.executable, "-m", "mysocial", "serve", *args], env=env, cwd=tmp_path,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, start_new_session=True)


def _kill(proc) -> str:
    """Kill `proc` and whatever it started (its session's process group); return its output. Its
    children hold the output pipe, so killing only `proc` would leave them running and the read hanging."""
    try:
        os.killpg(proc.pid, signal.SIGKILL)
    except ProcessLookupError:
        pass
    return proc.communicate()[0]


def _wait_listening(proc) -> list[str]:
    lines = []
    for line in proc.stdout:
        lines.append(line)
        if "API listening" in line:
            return lines
    pytest.fail("".join(lines))


async def test_sigterm_finishes_in_flight_request(tmp_path, settings):
    """SIGTERM while a sign-up body is still arriving: the request completes, then the process exits."""
    port = free_port()
    proc = _serve(tmp_path, settings, port)
    try:
        _wait_listening(proc)
        body = json.dumps({"username": "alice", "password": "secret1", "email": "alice@example.com",
                           "avatarColor": "red", "avatarImage": PNG}).encode()
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        writer.write(b"POST /api/v1/signup HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
                     b"Content-Length: %d\r\nExpect: 100-continue\r\nConnection: close\r\n\r\n" % len(body)
                     + body[:10])
        await writer.drain()
        # The server has the request in hand before it is told to stop: it says so (100 Continue).
        assert b"100" in await asyncio.wait_for(reader.readline(), 30)
        assert await reader.readline() == b"\r\n"
        proc.send_signal(signal.SIGTERM)
        writer.write(body[10:])
        await writer.drain()
        try:
            status_line = await asyncio.wait_for(reader.readline(), 30)
        except TimeoutError:
            pytest.fail("no answer within 30 s; the server said:\n" + _kill(proc))
        assert b"201" in status_line, status_line
        writer.close()
        assert await asyncio.to_thread(proc.wait, 60) == 0
        with pytest.raises(OSError):
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
    finally:
        _kill(proc)


async def test_serve_workers_share_one_port_as_instances_of_their_own(tmp_path, settings):
    """`mysocial serve --workers 2`: two processes answer on one port (SO_REUSEPORT), each its own
    instance with the same secrets (a token from one opens requests on the other); SIGTERM stops both."""
    import aiohttp

    port = free_port()
    proc = _serve(tmp_path, settings, port, "--workers", "2", LOG_LEVEL="WARNING", INSTANCE_NAME="box",
                  JWT_SECRET="",  # development: the secrets are made once, by the parent
                  RATE_LIMIT="100000")  # the polling below is not what this test is about
    url = f"http://127.0.0.1:{port}"

    async def instance(http) -> tuple[str, str] | None:
        """(name, process id) of the process that answered `/instance`; None while nothing listens."""
        try:
            async with http.get(f"{url}/instance", headers={"Connection": "close"}) as response:
                text = await response.text()
        except aiohttp.ClientConnectionError:
            return None
        assert response.status == 200 and "instance " in text, (response.status, text)
        return text.split("instance ")[1].split(" ")[0], text.rsplit(" ", 1)[1]

    try:
        seen: dict[str, str] = {}
        async with aiohttp.ClientSession() as http:
            deadline = time.monotonic() + 60
            while len(seen) < 2 and time.monotonic() < deadline:  # the second may start later
                if answer := await instance(http):
                    seen.update([answer])
                else:
                    await asyncio.sleep(0.1)
            assert sorted(seen) == ["box-0", "box-1"] and len(set(seen.values())) == 2, seen
            body = await (await http.post(f"{url}/api/v1/signup", json={
                "username": "alice", "password": "secret1", "email": "alice@example.com", "avatarColor": "red",
                "avatarImage": PNG})).json()
            answered = set()
            for _ in range(100):
                async with http.get(f"{url}/api/v1/currentuser", headers={
                        "Authorization": f"Bearer {body['token']}", "Connection": "close"}) as response:
                    assert response.status == 200, "a token made by one process opens requests on the other"
                answered.add((await instance(http))[0])
                if len(answered) == 2:
                    break
        proc.send_signal(signal.SIGTERM)
        assert await asyncio.to_thread(proc.wait, 60) == 0
        with pytest.raises(OSError):
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
    finally:
        _kill(proc)


async def test_worker_finishes_current_job_on_sigterm(settings, r, tmp_path):
    """A warm shutdown: the job in progress completes before the worker exits; the next waits."""
    import queues
    from mysocial.core.redis import async_client
    from rq import Queue
    from rq.registry import FailedJobRegistry

    client = async_client(settings.redis_url)
    await queues.enqueue(client, "maintenance", "tests.jobs.signal_then_sleep", "job-started", 1.5)
    await queues.enqueue(client, "maintenance", "tests.jobs.signal_then_sleep", "second-started", 0)
    await client.aclose()
    env = {**os.environ, "REDIS_URL": settings.redis_url, "MONGO_URL": settings.mongo_url,
           "MONGO_DB": settings.mongo_db, "PYTHONPATH": str(ROOT), "LOG_LEVEL": "WARNING"}
    proc = subprocess.Popen([sys.executable, "-m", "mysocial", "worker"], env=env, cwd=tmp_path,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, start_new_session=True)
    try:
        assert r.blpop(["job-started"], timeout=60), "the first job never started"
        proc.send_signal(signal.SIGTERM)
        output = proc.communicate(timeout=60)[0]
        assert proc.returncode == 0, output
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
    assert FailedJobRegistry("maintenance", connection=r).count == 0
    assert Queue("maintenance", connection=r).count == 1, "the next job waits for another worker"
    assert r.llen("second-started") == 0


def test_a_worker_stops_without_waiting_out_its_command_channel_read(settings):
    """A worker's teardown unsubscribes from its command channel, then stops the thread reading it
    and waits for it: once unsubscribed, that thread's read waits for a new subscription."""
    from workers.runner import make_worker

    worker = make_worker(settings, ["maintenance"])
    worker.subscribe()
    assert worker.pubsub.subscribed_event.wait(10), "never subscribed"
    worker.pubsub.unsubscribe()
    deadline = time.monotonic() + 10
    while worker.pubsub.subscribed and time.monotonic() < deadline:  # the thread reads the answer
        time.sleep(0.01)
    assert not worker.pubsub.subscribed
    stopping = threading.Thread(target=worker.pubsub_thread.stop, daemon=True)
    stopping.start()
    stopping.join(20)
    assert not stopping.is_alive(), "the channel's read held the stop (RQ lets it wait 60 s)"
    worker.pubsub.close()


def test_dashboard_requires_login(settings):
    from mysocial import config
    from mysocial.dashboard import credentials, make

    app = make(settings, "admin", "pa55word").test_client()
    assert app.get("/").status_code == 401
    assert app.get("/", auth=("admin", "wrong")).status_code == 401
    response = app.get("/", auth=("admin", "pa55word"))
    assert response.status_code == 200 and b"RQ" in response.data
    with pytest.raises(config.ConfigError):
        credentials(settings.with_(env="production"), env={})
    assert credentials(settings, env={})[1], "development generates a password"


def test_dev_stop_lets_the_job_in_progress_end_and_starts_no_other(settings, r):
    """`mysocial dev`'s shutdown (finish_jobs, before the embedded stores stop): the job a worker
    thread runs ends first; a job it dequeues from then on does not run (it would meet stopped
    stores), even if the worker was still IDLE, between dequeue and start, when the stop came."""
    from rq import Queue

    from mysocial.dev import finish_jobs
    from workers.runner import make_worker

    queue = Queue("maintenance", connection=r)
    worker = make_worker(settings, ["maintenance"])
    first = queue.enqueue("tests.jobs.signal_then_sleep", "first-started", 0.5)
    threading.Thread(target=worker.work, kwargs={"logging_level": "WARNING"}, daemon=True).start()
    assert r.blpop(["first-started"], timeout=30), "the first job never started"
    finish_jobs([worker])
    assert first.get_status(refresh=True) == "finished", "the job in progress ended before the stores stop"

    second = queue.enqueue("tests.jobs.signal_then_sleep", "second-started", 0)
    late = threading.Thread(target=worker.execute_job, args=(second, queue), daemon=True)
    late.start()  # as the worker's loop would, had it dequeued `second` just before the stop
    late.join(2)
    assert late.is_alive() and r.llen("second-started") == 0, "no job starts once stopped"
