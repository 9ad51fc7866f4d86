"""The bench harness on tiny inputs: baseline routes, load generators, wrk parsing, reports.

Nothing here measures speed; these only check that `python -m bench` can run.
"""
from __future__ import annotations

import asyncio

import pytest
from aiohttp.test_utils import TestServer

from bench import bare, load, run, scenario, worker
from bench.app import FANOUT_EVENT, ITEMS, SEQ, create_bench_app, item_key
from tests.conftest import bearer, signup

WRK_OUTPUT = """Running 5s test @ http://127.0.0.1:4000/bench/json
  1 threads and 32 connections
  Thread Stats   Avg      Stdev     Max   +/- Stdev
    Latency     1.05ms  300.00us   12.00ms   90.00%
  Latency Distribution
     50%  986.00us
     75%    1.10ms
     90%    1.25ms
     99%    2.43ms
  160000 requests in 5.00s, 30.00MB read
  Socket errors: connect 0, read 2, write 0, timeout 1
  Non-2xx or 3xx responses: 12
Requests/sec:  31999.23
Transfer/sec:      6.00MB
"""


@pytest.fixture
async def bench_client(aiohttp_client, settings):
    return await aiohttp_client(create_bench_app(settings))


async def test_baseline_routes_answer_through_the_app_stack(bench_client, r):
    token = (await signup(bench_client, "bencher"))["token"]
    response = await bench_client.get("/bench/json", headers=bearer(token))
    assert response.status == 200 and await response.json() == {"message": "ok"}
    assert response.headers["X-Content-Type-Options"] == "nosniff", "the app's middlewares ran"
    assert response.headers["X-Request-Id"]

    for n in range(12):
        response = await bench_client.post("/bench/write", json={"post": f"text {n}"}, headers=bearer(token))
        assert response.status == 201 and (await response.json())["id"] == n + 1
    assert int(r.get(SEQ)) == 12 and r.zcard(ITEMS) == 12
    assert r.hget(item_key(12), "post") == b'"text 11"'

    response = await bench_client.get("/bench/read", headers=bearer(token))
    items = (await response.json())["items"]
    assert response.status == 200 and [i["_id"] for i in items] == list(range(12, 2, -1))
    assert items[0] == {"_id": 12, "post": "text 11"}
    assert any(k.startswith(b"ratelimit:api:user:") for k in r.keys("ratelimit:*")), "the rate limiter counted"


async def test_ceiling_app_writes_in_one_transaction_and_reads_in_one_pipeline(aiohttp_client, settings, r,
                                                                               monkeypatch):
    monkeypatch.setenv("REDIS_URL", settings.redis_url)
    client = await aiohttp_client(bare.create_app())
    response = await client.get("/json")
    assert response.status == 200 and await response.json() == {"message": "ok"}
    assert "X-Request-Id" not in response.headers, "no middleware"
    ids = []
    for n in range(12):
        response = await client.post("/write", json={"post": f"text {n}"})
        assert response.status == 201
        ids.append((await response.json())["id"])
    assert int(r.get(bare.SEQ)) == 12 and r.zcard(bare.ITEMS) == 12
    await client.get("/read")  # learns the newest ids; the next read fetches their hashes in the same pipeline
    items = (await (await client.get("/read")).json())["items"]
    assert [i["_id"] for i in items] == sorted(ids, reverse=True)[:bare.PAGE]
    assert items[0]["post"] == f"text {ids.index(max(ids))}"


async def test_fanout_route_broadcasts_a_timestamped_event(settings, sockets):
    server = TestServer(create_bench_app(settings), host="127.0.0.1")
    await server.start_server()
    try:
        url = f"http://127.0.0.1:{server.port}"
        import aiohttp

        async with aiohttp.ClientSession() as http:
            async with http.post(f"{url}/api/v1/signup", json={
                "username": "fanner", "password": "secret1", "email": "fanner@example.com",
                "avatarColor": "red", "avatarImage": scenario.PNG,
            }) as response:
                body = await response.json()
            user = await sockets(url, token=body["token"], user_id=body["user"]["_id"])
            async with http.post(f"{url}/bench/fanout", json={"seq": 7}) as response:
                assert response.status == 200
        event = await user.wait_for(FANOUT_EVENT)
        assert event["seq"] == 7 and isinstance(event["t"], float)
    finally:
        await server.close()


async def test_load_generator_runs_prepared_requests(settings):
    server = TestServer(create_bench_app(settings), host="127.0.0.1")
    await server.start_server()
    try:
        url = f"http://127.0.0.1:{server.port}"
        requests = [load.Request.json("POST", "/bench/write", {"post": "x"}), load.Request("GET", "/bench/read")]
        for use_wrk in (True, False):  # wrk when installed, and the aiohttp client in any case
            result = await asyncio.to_thread(load.measure, url, requests, 1, 2, use_wrk)
            assert result.requests > 0 and result.errors == 0 and result.rps > 0
            assert 0 < result.p50_ms <= result.p99_ms
        missing = await asyncio.to_thread(load.measure, url, [load.Request("GET", "/nowhere")], 1, 1, False)
        assert missing.errors == missing.requests > 0
    finally:
        await server.close()


def test_wrk_output_is_parsed():
    result = load.parse_wrk(WRK_OUTPUT)
    assert result.rps == 31999.23 and result.requests == 160000
    assert result.p50_ms == pytest.approx(0.986) and result.p99_ms == pytest.approx(2.43)
    assert result.errors == 12 + 3
    assert load.to_ms("1.5s") == 1500 and load.to_ms("250us") == 0.25
    with pytest.raises(RuntimeError):
        load.parse_wrk("wrk: connection refused")


def test_lua_script_escapes_every_byte():
    assert load.lua_string('a"b\\c\n\xe9') == '"a\\034b\\092c\\010\\195\\169"'
    script = load.lua_script([load.Request.json("POST", "/p", {"k": "v"}, {"Authorization": "Bearer t"})])
    assert 'wrk.format("POST", "/p", {["Authorization"] = "Bearer t", ["Content-Type"] = "application/json"}' in script
    assert "request = function()" in script and "n = n % #reqs + 1" in script


def test_percentile_and_reports():
    assert load.percentile([], 50) == 0
    values = [float(v) for v in range(1, 101)]
    assert load.percentile(values, 50) == 50 and load.percentile(values, 99) == 99
    routes = {"ceiling write": {"rps": 1000.0, "p50_ms": 4, "p99_ms": 8, "api_cpu_us": 500},
              "minimal write": {"rps": 800.0, "p50_ms": 5, "p99_ms": 9, "api_cpu_us": 600},
              "create post": {"rps": 720.0, "p50_ms": 8, "p99_ms": 20, "api_cpu_us": 800},
              "add reaction": {"rps": 900.0, "p50_ms": 8, "p99_ms": 30, "api_cpu_us": 550},
              "send message": {"skipped": "route not found"}}
    run.keep_best(routes, "create post", {"rps": 400.0, "p50_ms": 9, "p99_ms": 30})
    assert routes["create post"]["rps"] == 720
    run.add_ratios(routes)
    post = routes["create post"]
    assert (post["ceiling"], post["ratio"], post["cpu_ratio"], post["stack_ratio"]) == ("ceiling write", 0.72, 0.625, 0.9)
    assert post["meets_target"] is True and post["target"] == 0.7
    assert routes["add reaction"]["meets_target"] is False, "the p99 is over 25 ms"
    assert routes["minimal write"]["ratio"] == 0.8 and "meets_target" not in routes["minimal write"]
    assert routes["ceiling write"]["ratio"] is None and "ratio" not in routes["send message"]
    keepup = {"seconds": 60, "rps": 1500.0, "pending": [100, 900], "drained_after_s": 2.5, "workers": "2 x 1",
              "posts_stored": 500, "cpu_per_post": {"workers_us": 120, "mongo_us": 900}, "fanout": [3, 0],
              "meets_target": True}
    text = run.table({"routes": routes, "config": {"connections": 32}, "keepup": keepup})
    assert "create post" in text and "skipped: route not found" in text and ">= 0.7: ok" in text
    assert "pending every 5 s [100, 900]" in text and "fan-out, every 5 s: [3, 0]" in text and "workers 120 us, the MongoDB wire server 900 us (500 posts)" in text


def test_requests_cycle_over_users_and_posts():
    users = [scenario.User(f"{n:024x}", f"Bench{n:03d}", f"token{n}", "", "#000") for n in range(3)]
    world = scenario.World(users, [{"_id": f"{n + 100:024x}", "userId": users[n % 3].id, "privacy": "Public"}
                                   for n in range(6)])
    reactions = scenario.requests_for(world, "add reaction")
    assert len(reactions) == scenario.VARIANTS
    assert {r.headers["Authorization"] for r in reactions} == {f"Bearer token{n}" for n in range(3)}
    messages = scenario.requests_for(world, "send message")
    assert all(r.path == "/api/v1/chat/message" for r in messages)
    assert scenario.requests_for(scenario.World(users, []), "add reaction") == []


def test_slowed_database_delays_writes_only(monkeypatch):
    calls, slept = [], []

    class Collection:
        async def replace_one(self, *a, **k):
            calls.append("replace_one")

        async def find_one(self, *a, **k):
            calls.append("find_one")

    async def sleep(seconds):
        slept.append(seconds)

    async def scenario():
        db = worker.SlowDatabase({"posts": Collection()}, 0.2)
        await db["posts"].find_one({})
        assert slept == []
        await db["posts"].replace_one({}, {})

    monkeypatch.setattr(worker.asyncio, "sleep", sleep)
    asyncio.run(scenario())
    assert slept == [0.2] and calls == ["find_one", "replace_one"]
