"""The process files as an operator runs them: ecosystem.config.js under PM2, and the compose file."""
from __future__ import annotations

import asyncio
import json
import os
import shutil
import subprocess
import time
import uuid
from pathlib import Path

import aiohttp
import pytest
import yaml

from mysocial.core import mongo
from mysocial.dev import free_port
from tests.conftest import PNG

ROOT = Path(__file__).resolve().parents[1]
PASSWORD = "dashboard-" + uuid.uuid4().hex[:8]


def two_free_ports() -> int:
    """A port p such that p and p + 1 are free (PM2 gives the second instance PORT + 1)."""
    for _ in range(50):
        port = free_port()
        try:
            import socket

            with socket.socket() as s:
                s.bind(("127.0.0.1", port + 1))
            return port
        except OSError:
            continue
    pytest.fail("no two consecutive free ports")


@pytest.fixture
def pm2(tmp_path, settings):
    binary = subprocess.run(["sh", str(ROOT / ".ci" / "install-pm2")], capture_output=True, text=True, timeout=600)
    assert binary.returncode == 0, binary.stderr
    port, dashboard = two_free_ports(), free_port()
    env = {**os.environ, "PM2_HOME": str(tmp_path / "pm2"), "JWT_SECRET": "j" * 40, "SECRET_KEY_ONE": "k" * 40,
           "REDIS_URL": settings.redis_url, "MONGO_URL": settings.mongo_url, "MONGO_DB": settings.mongo_db,
           "RQ_DASHBOARD_PASSWORD": PASSWORD, "PORT": str(port), "DASHBOARD_PORT": str(dashboard),
           "API_URL": "https://api.example.com", "BCRYPT_ROUNDS": "4", "RATE_LIMIT": "0", "AUTH_RATE_LIMIT": "0",
           "MEDIA_DIR": str(tmp_path / "media"), "OUTBOX_DIR": str(tmp_path / "outbox")}
    for name in ("NODE_ENV", "MYSOCIAL_ENV", "HOST"):
        env.pop(name, None)

    def run(*args: str, timeout: float = 120) -> subprocess.CompletedProcess:
        return subprocess.run([binary.stdout.strip(), *args], env=env, cwd=tmp_path, capture_output=True, text=True,
                              timeout=timeout)

    started = run("start", str(ROOT / "ecosystem.config.js"))
    assert started.returncode == 0, started.stdout + started.stderr
    try:
        yield run, [port, port + 1], dashboard
    finally:
        run("kill")


def processes(run) -> list[dict]:
    listed = run("jlist")
    return json.loads(listed.stdout[listed.stdout.index("["):])


async def until(check, what: str, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while not await check():
        assert time.monotonic() < deadline, f"timed out waiting until {what}"
        await asyncio.sleep(0.1)


async def test_the_ecosystem_file_under_pm2(pm2, settings):
    run, ports, dashboard = pm2
    urls = [f"http://127.0.0.1:{p}" for p in ports]
    async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=5)) as http:
        async def answers(url: str) -> bool:
            try:
                async with http.get(f"{url}/health") as response:
                    return response.status == 200
            except aiohttp.ClientError:
                return False

        async def all_up() -> bool:
            return all(await asyncio.gather(*(answers(u) for u in urls)))

        await until(all_up, "both API instances answer", timeout=90)
        names = sorted(p["name"] for p in processes(run) if p["pm2_env"]["status"] == "online")
        assert names == ["mysocial-api", "mysocial-api", "mysocial-dashboard", "mysocial-scheduler",
                         "mysocial-worker", "mysocial-worker"]

        for n, url in enumerate(urls):  # a sign-up through either instance
            async with http.post(f"{url}/api/v1/signup", json={
                    "username": f"user{n}", "password": "secret1", "email": f"user{n}@example.com",
                    "avatarColor": "red", "avatarImage": PNG}) as response:
                body = await response.json()
                assert response.status == 201, body
                assert body["user"]["profilePicture"].startswith("https://api.example.com/media/"), "API_URL"
        db = mongo.sync_db(settings)

        async def persisted() -> bool:
            return db["users"].count_documents({}) == 2

        await until(persisted, "the workers stored both users")

        # `pm2 reload mysocial-api` under a steady stream of requests, sent as a load balancer
        # sends them: to one instance, to the other if that one refuses the connection.
        before = {p["pm_id"]: p["pid"] for p in processes(run) if p["name"] == "mysocial-api"}
        failures, served, both_down = [], 0, 0
        stop = asyncio.Event()

        async def stream() -> None:
            nonlocal served, both_down
            n = 0
            while not stop.is_set():
                n += 1
                order = urls if n % 2 else urls[::-1]
                for attempt, url in enumerate(order):
                    try:
                        async with http.get(f"{url}/health") as response:
                            if response.status == 200:
                                served += 1
                                break
                            failures.append(response.status)
                            break
                    except aiohttp.ClientConnectionError:
                        if attempt == len(order) - 1:
                            both_down += 1
                            failures.append("refused by both")
                await asyncio.sleep(0.005)

        probe = asyncio.create_task(stream())
        reloaded = await asyncio.to_thread(run, "reload", "mysocial-api", timeout=180)
        stop.set()
        await probe
        assert reloaded.returncode == 0, reloaded.stdout + reloaded.stderr
        after = {p["pm_id"]: p["pid"] for p in processes(run) if p["name"] == "mysocial-api"}
        assert set(after) == set(before) and all(after[i] != before[i] for i in before), "both instances restarted"
        assert failures == [] and both_down == 0 and served > 100, (failures, served)
        assert await all_up()

        dashboard_url = f"http://127.0.0.1:{dashboard}/0/data/queues.json"
        async with http.get(dashboard_url) as response:
            assert response.status == 401, "no password, no queues"
        async with http.get(dashboard_url, auth=aiohttp.BasicAuth("admin", PASSWORD)) as response:
            assert response.status == 200 and "queues" in await response.json()


def test_the_dashboard_without_a_password_is_a_one_line_error(settings):
    env = {**os.environ, "NODE_ENV": "production", "JWT_SECRET": "j" * 40, "SECRET_KEY_ONE": "k" * 40,
           "REDIS_URL": settings.redis_url, "PYTHONPATH": str(ROOT)}
    env.pop("RQ_DASHBOARD_PASSWORD", None)
    done = subprocess.run([str(ROOT / ".venv" / "bin" / "mysocial"), "dashboard"], env=env, capture_output=True,
                          text=True, timeout=60)
    assert done.returncode == 2
    assert done.stderr.strip() == "mysocial: production needs RQ_DASHBOARD_PASSWORD for the dashboard"


@pytest.fixture(scope="module")
def compose():
    binary = shutil.which("docker-compose")
    if binary is None:
        pytest.fail("docker-compose is not installed (.ci/run installs Debian's)")
    env = {**os.environ, "JWT_SECRET": "j" * 40, "SECRET_KEY_ONE": "k" * 40, "RQ_DASHBOARD_PASSWORD": "p" * 12}
    env.pop("SENDER_EMAIL", None)
    done = subprocess.run([binary, "-f", str(ROOT / "docker-compose.yml"), "config"], env=env, capture_output=True,
                          text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    return yaml.safe_load(done.stdout)


def test_compose_validates_with_healthchecks_grace_and_defaults(compose):
    services = compose["services"]
    assert set(services) >= {"redis", "mongo", "api-1", "api-2", "worker", "scheduler", "dashboard"}
    for name in ("api-1", "api-2"):
        api = services[name]
        assert "healthcheck" in api and "/health" in " ".join(api["healthcheck"]["test"])
        assert api["stop_grace_period"] in ("35s", "35")
        assert "SENDER_EMAIL" not in api["environment"] or api["environment"]["SENDER_EMAIL"], "no empty sender"
        assert api["depends_on"]["redis"]["condition"] == "service_healthy"
    assert services["worker"]["stop_grace_period"] in ("70s", "70")
    assert all("healthcheck" in services[name] for name in ("redis", "mongo", "dashboard"))
    dashboard = services["dashboard"]
    assert "mysocial dashboard" in " ".join(dashboard["command"] if isinstance(dashboard["command"], list)
                                            else [dashboard["command"]])
    assert "p" * 12 not in json.dumps(dashboard.get("command")), "the password is not on the command line"
    assert dashboard["environment"]["RQ_DASHBOARD_PASSWORD"] and dashboard["environment"]["RQ_DASHBOARD_USERNAME"]


def test_the_image_runs_as_a_user_from_a_lock_file():
    dockerfile = (ROOT / "Dockerfile").read_text()
    assert "USER " in dockerfile and "USER root" not in dockerfile
    assert "requirements.lock" in dockerfile and (ROOT / "requirements.lock").exists()
    assert "FROM python:3.13" in dockerfile
