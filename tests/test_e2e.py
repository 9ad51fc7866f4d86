"""End to end: real ports, a real redis-server, real workers; and `mysocial dev` as a subprocess."""
from __future__ import annotations

import http.client
import json
import os
import signal
import subprocess
import sys
from pathlib import Path

import aiohttp
import bcrypt
import pytest
from bson import ObjectId

from mysocial.dev import free_port
from tests.conftest import PNG


async def test_signup_signin_currentuser_then_worker_persists(instances, drain, db):
    (api,) = await instances(1)
    async with aiohttp.ClientSession(cookie_jar=aiohttp.CookieJar(unsafe=True)) as http:
        async with http.post(f"{api.url}/api/v1/signup", json={
            "username": "alice", "password": "secret1", "email": "alice@example.com",
            "avatarColor": "#abcdef", "avatarImage": PNG,
        }) as response:
            assert response.status == 201
            user = (await response.json())["user"]
        http.cookie_jar.clear()
        async with http.post(f"{api.url}/api/v1/signin", json={"username": "alice", "password": "secret1"}) as response:
            assert response.status == 200
            assert "session" in response.cookies
        async with http.get(f"{api.url}/api/v1/currentuser") as response:
            body = await response.json()
            assert body["isUser"] is True and body["user"]["_id"] == user["_id"]
        async with http.get(user["profilePicture"].replace("http://localhost", api.url)) as response:
            assert response.status == 200 and await response.read() == b"\x89PNG\r\n\x1a\nfake"

    await drain()
    stored = db["users"].find_one({"_id": ObjectId(user["_id"])})
    assert {k: stored[k] for k in ("username", "email", "avatarColor", "uId", "postsCount")} == {
        "username": "Alice", "email": "alice@example.com", "avatarColor": "#abcdef", "uId": user["uId"], "postsCount": 0,
    }
    auth = db["auth"].find_one({"_id": stored["authId"]})
    assert auth["password"].startswith("$2b$") and bcrypt.checkpw(b"secret1", auth["password"].encode())
    assert "password" not in stored


class Dev:
    """`mysocial dev` as a subprocess in `folder`, with nothing configured."""

    def __init__(self, folder: Path, *args: str):
        self.port = free_port()
        root = Path(__file__).resolve().parents[1]
        env = {**os.environ, "PORT": str(self.port), "LOG_LEVEL": "INFO", "PYTHONPATH": str(root)}
        for name in ("REDIS_URL", "MONGO_URL", "CLOUDINARY_URL", "SENDGRID_API_KEY", "MEDIA_DIR", "OUTBOX_DIR"):
            env.pop(name, None)
        script = Path(sys.executable).with_name("mysocial")
        command = [str(script), "dev"] if script.exists() else [sys.executable, "-m", "mysocial", "dev"]
        self.proc = subprocess.Popen([*command, *args], cwd=folder, env=env, stdout=subprocess.PIPE,
                                     stderr=subprocess.STDOUT, text=True)
        self.log: list[str] = []
        for line in self.proc.stdout:  # the last start-up line says it listens
            self.log.append(line)
            if "API listening" in line:
                return
        self.stop()
        pytest.fail("".join(self.log))

    def call(self, method: str, path: str, body: dict | None = None, token: str | None = None) -> tuple[int, dict]:
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=30)
        headers = {"Content-Type": "application/json"} | ({"Authorization": f"Bearer {token}"} if token else {})
        conn.request(method, f"/api/v1{path}", body=json.dumps(body) if body is not None else None, headers=headers)
        response = conn.getresponse()
        return response.status, json.loads(response.read())

    def stop(self) -> str:
        """SIGTERM, as Ctrl-C or a service manager would stop it; the whole output."""
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
        self.log.append(self.proc.communicate(timeout=60)[0])
        return "".join(self.log)


def test_dev_keeps_its_data_across_a_restart(tmp_path):
    """Sign up and post, stop `mysocial dev`, start it again: the account signs in and the post is there."""
    dev = Dev(tmp_path)
    try:
        status, body = dev.call("POST", "/signup", {"username": "alice", "password": "secret1",
                                                    "email": "alice@example.com", "avatarColor": "red",
                                                    "avatarImage": PNG})
        assert status == 201 and body["message"] == "User created successfully", body
        status, body = dev.call("POST", "/post", {"post": "still here tomorrow"}, token=body["token"])
        assert status == 201, body
    finally:
        output = dev.stop()
    assert dev.proc.returncode == 0, output
    assert "Traceback" not in output, "the workers and the scheduler share one context; nothing fails"
    assert "data in" in output and str(tmp_path / ".mysocial" / "mongo") in output, output
    assert list((tmp_path / "media").iterdir()), "the avatar went to the local media folder"

    again = Dev(tmp_path)
    try:
        status, body = again.call("POST", "/signin", {"username": "alice", "password": "secret1"})
        assert status == 200, body
        status, feed = again.call("GET", "/post/all/1", token=body["token"])
        assert status == 200 and [p["post"] for p in feed["posts"]] == ["still here tomorrow"], feed
    finally:
        again.stop()

    fresh = Dev(tmp_path, "--fresh")
    try:
        status, body = fresh.call("POST", "/signin", {"username": "alice", "password": "secret1"})
        assert status == 400 and body["message"] == "Invalid credentials", "--fresh starts empty"
    finally:
        fresh.stop()
