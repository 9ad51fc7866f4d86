"""End to end: real ports, a real redis-server, real workers; and `mysocial dev` as a subprocess."""
from __future__ import annotations

import http.client
import json
import os
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


def test_dev_command_answers_signup(tmp_path):
    """`mysocial dev` on a fresh port, in an empty folder, with nothing configured."""
    port = free_port()
    root = Path(__file__).resolve().parents[1]
    env = {**os.environ, "PORT": str(port), "LOG_LEVEL": "INFO", "PYTHONPATH": str(root)}
    for name in ("REDIS_URL", "MONGO_URL", "CLOUDINARY_URL", "SENDGRID_API_KEY", "MEDIA_DIR", "OUTBOX_DIR"):
        env.pop(name, None)
    script = Path(sys.executable).with_name("mysocial")
    command = [str(script), "dev"] if script.exists() else [sys.executable, "-m", "mysocial", "dev"]
    proc = subprocess.Popen(command, cwd=tmp_path, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    log = []
    try:
        for line in proc.stdout:  # the last start-up line says it listens
            log.append(line)
            if "API listening" in line:
                break
        else:
            pytest.fail("".join(log))
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        conn.request("POST", "/api/v1/signup", body=json.dumps({
            "username": "alice", "password": "secret1", "email": "alice@example.com",
            "avatarColor": "red", "avatarImage": PNG}), headers={"Content-Type": "application/json"})
        response = conn.getresponse()
        assert response.status == 201, response.read()
        assert json.loads(response.read())["message"] == "User created successfully"
    finally:
        proc.terminate()
        log.append(proc.communicate(timeout=30)[0])
    output = "".join(log)
    assert "in-memory" in output, output
    assert list((tmp_path / "media").iterdir()), "the avatar went to the local media folder"
