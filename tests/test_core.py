"""Settings, middlewares (errors, CORS, headers), health routes, the e-mail and media ports."""
from __future__ import annotations

import pytest

from mysocial import config
from mysocial.app import create_app
from mysocial.core import security
from mysocial.core.errors import BadRequest
from mysocial.core.mail import Outbox, read_outbox
from mysocial.core.media import LocalMedia
from tests.conftest import PNG, signup


def test_production_refuses_to_start_without_secrets():
    with pytest.raises(config.ConfigError, match="JWT_SECRET"):
        config.load({"NODE_ENV": "production", "SECRET_KEY_ONE": "k" * 32})
    with pytest.raises(config.ConfigError, match="SECRET_KEY_ONE"):
        config.load({"NODE_ENV": "production", "JWT_SECRET": "s" * 40})
    with pytest.raises(config.ConfigError, match="at least 32"):
        config.load({"NODE_ENV": "production", "JWT_SECRET": "short", "SECRET_KEY_ONE": "k"})
    settings = config.load({"NODE_ENV": "production", "JWT_SECRET": "s" * 40, "SECRET_KEY_ONE": "k" * 32})
    assert settings.production and settings.jwt_secret == "s" * 40


def test_development_generates_a_secret_per_process():
    a, b = config.load({}), config.load({})
    assert len(a.jwt_secret) >= 32 and a.jwt_secret != b.jwt_secret


def test_bad_integer_setting_is_reported():
    with pytest.raises(config.ConfigError, match="PORT"):
        config.load({"PORT": "eighty"})


async def test_production_cookie_is_secure_and_same_site(aiohttp_client, settings):
    client = await aiohttp_client(create_app(settings.with_(env="production")))
    body = await signup(client, "alice")
    response = await client.post("/api/v1/signin", json={"username": "alice", "password": "secret1"})
    cookie = response.cookies["session"]
    assert cookie["secure"] and cookie["httponly"] and cookie["samesite"] == "Lax"
    assert body["token"]
    cross_site = await aiohttp_client(create_app(settings.with_(env="production", cookie_samesite="None")))
    response = await cross_site.post("/api/v1/signup", json={
        "username": "bobby", "password": "secret1", "email": "bobby@example.com", "avatarColor": "red",
        "avatarImage": PNG})
    assert response.cookies["session"]["samesite"] == "None", "COOKIE_SAMESITE=None for a client on another site"


def test_cookie_keys_rotate(settings):
    token = security.make_token(settings, {"userId": "x"})
    sealed = security.seal_cookie(settings, token)
    rotated = settings.with_(cookie_keys=("new-key", *settings.cookie_keys))
    assert security.open_cookie(rotated, sealed) == token
    assert security.open_cookie(settings.with_(cookie_keys=("other",)), sealed) is None


async def test_unknown_route_and_method(client):
    response = await client.get("/api/v1/nothing/here?x=1")
    assert response.status == 404 and await response.json() == {"message": "/api/v1/nothing/here not found"}
    response = await client.delete("/api/v1/signin")
    assert response.status == 405 and (await response.json())["status"] == "error"


async def test_cors_allows_the_client_origin_with_credentials(client, settings):
    response = await client.options("/api/v1/signin", headers={
        "Origin": settings.client_url, "Access-Control-Request-Method": "POST",
        "Access-Control-Request-Headers": "content-type"})
    assert response.status == 204
    assert response.headers["Access-Control-Allow-Origin"] == settings.client_url
    assert response.headers["Access-Control-Allow-Credentials"] == "true"
    response = await client.options("/api/v1/signin", headers={
        "Origin": "http://evil.example", "Access-Control-Request-Method": "POST"})
    assert response.status == 403 and "Access-Control-Allow-Origin" not in response.headers
    response = await client.get("/health", headers={"Origin": settings.client_url})
    assert response.headers["Access-Control-Allow-Origin"] == settings.client_url
    assert response.headers["X-Content-Type-Options"] == "nosniff"


async def test_health_routes(client):
    assert "healthy" in await (await client.get("/health")).text()
    assert "test" in await (await client.get("/env")).text()
    assert "instance test" in await (await client.get("/instance")).text()
    text = await (await client.get("/fibo/10")).text()
    assert text.startswith("Fibonacci series of 10 is 55")
    for bad in ("abc", "99999999"):
        response = await client.get(f"/fibo/{bad}")
        assert response.status == 400 and (await response.json())["status"] == "error"


async def test_body_too_large_is_an_error_in_shape(client):
    response = await client.post("/api/v1/signin", data=b"x" * (51 * 1024 * 1024),
                                 headers={"Content-Type": "application/json"})
    assert response.status == 413 and (await response.json())["status"] == "error"


async def test_local_media_rejects_bad_data_and_ids(tmp_path):
    media = LocalMedia(str(tmp_path), "http://api")
    uploaded = await media.upload(PNG, "abc123")
    assert uploaded.url == "http://api/media/abc123.png" and (tmp_path / "abc123.png").exists()
    for data, public_id in ((PNG, "../etc/passwd"), ("data:image/png;base64,!!!", "x"), ("hello", "x")):
        with pytest.raises(BadRequest):
            await media.upload(data, public_id)
    with pytest.raises(BadRequest):
        await media.upload(PNG, "vid", kind="video")
    await media.delete("abc123")
    assert not (tmp_path / "abc123.png").exists()


def test_outbox_writes_messages_in_order(tmp_path):
    outbox = Outbox(str(tmp_path), "from@example.com")
    outbox.send("a@example.com", "one", "<p>1</p>")
    outbox.send("b@example.com", "two", "<p>2</p>")
    assert [(m["to"], m["subject"]) for m in read_outbox(str(tmp_path))] == [("a@example.com", "one"), ("b@example.com", "two")]


def test_email_templates_escape_values():
    from workers.email import render

    subject, html = render("forgot-password", {"username": "<script>", "resetLink": "http://x/?a=1&b=2"})
    assert "<script>" not in html and "&lt;script&gt;" in html and subject == "Reset your password"


def test_utc_now_is_isoformat_with_the_digits_asked():
    from datetime import datetime, timezone

    from mysocial.core import clock

    before = datetime.now(timezone.utc)
    millis, micros = clock.utc_now(), clock.utc_now(6)
    after = datetime.now(timezone.utc)
    assert len(millis) == 24 and millis.endswith("Z") and len(micros) == 27
    for text in (millis, micros):
        at = datetime.fromisoformat(text)
        assert before.replace(microsecond=before.microsecond // 1000 * 1000) <= at <= after


def test_latency_histogram_counts_each_request_in_its_bucket():
    from prometheus_client import CollectorRegistry, generate_latest
    from prometheus_client.parser import text_string_to_metric_families

    from mysocial.core.metrics import Latencies

    registry, latencies = CollectorRegistry(), Latencies()
    registry.register(latencies)
    for seconds in (0.0005, 0.001, 0.003, 10):
        latencies.observe("GET", "/api/v1/x", 200, seconds)
    latencies.observe("POST", "/api/v1/x", 201, 0.2)
    [family] = text_string_to_metric_families(generate_latest(registry).decode())
    assert family.name == "mysocial_http_request_duration_seconds" and family.type == "histogram"
    got = {(s.name.rpartition("_")[2], s.labels["method"], s.labels.get("le")): s.value for s in family.samples}
    assert {le: got["bucket", "GET", le] for le in ("0.001", "0.0025", "0.005", "5.0", "+Inf")} == \
        {"0.001": 2, "0.0025": 2, "0.005": 3, "5.0": 3, "+Inf": 4}, "cumulative, `le` inclusive"
    assert got["count", "GET", None] == 4 and got["sum", "GET", None] == pytest.approx(10.0045)
    assert got["count", "POST", None] == 1
