"""The bench app: the real app plus baseline routes that pass the same middlewares.

The baselines set the ceiling a real route is compared with: a bare JSON
answer, a *minimal write* (one INCR, then one pipelined HSET + ZADD through
the app's asyncio Redis client) and a *minimal read* (ZREVRANGE, then one
pipelined HGETALL of 10). `/bench/fanout` broadcasts a timestamped event to
every signed-in socket on every instance (through the Redis manager), for bench/fanout.py.
"""
from __future__ import annotations

import time

import orjson
from aiohttp import web

from mysocial.app import create_app
from mysocial.config import Settings
from mysocial.core.appkeys import REDIS, SIO
from mysocial.core.http import json_response
from mysocial.core.realtime import AUTHENTICATED
from mysocial.core.redis import from_hash

ITEMS = "bench:items"
SEQ = "bench:seq"
PAGE = 10
FANOUT_EVENT = "bench fanout"
routes = web.RouteTableDef()


def item_key(n: int) -> str:
    return f"bench:item:{n}"


@routes.get("/bench/json")
async def bare_json(request: web.Request) -> web.Response:
    return json_response({"message": "ok"})


@routes.post("/bench/write")
async def minimal_write(request: web.Request) -> web.Response:
    raw = await request.read()
    text = orjson.loads(raw).get("post", "") if raw else ""
    r = request.app[REDIS]
    n = await r.incr(SEQ)
    async with r.pipeline(transaction=False) as pipe:
        pipe.hset(item_key(n), mapping={"_id": orjson.dumps(n), "post": orjson.dumps(text)})
        pipe.zadd(ITEMS, {str(n): n})
        await pipe.execute()
    return json_response({"message": "ok", "id": n}, status=201)


@routes.get("/bench/read")
async def minimal_read(request: web.Request) -> web.Response:
    r = request.app[REDIS]
    ids = await r.zrevrange(ITEMS, 0, PAGE - 1)
    async with r.pipeline(transaction=False) as pipe:
        for n in ids:
            pipe.hgetall(item_key(int(n)))
        raws = await pipe.execute()
    return json_response({"message": "ok", "items": [from_hash(raw) for raw in raws]})


@routes.post("/bench/fanout")
async def fanout(request: web.Request) -> web.Response:
    data = orjson.loads(await request.read())
    await request.app[SIO].emit(FANOUT_EVENT, {"seq": data["seq"], "t": time.time()}, to=AUTHENTICATED)
    return json_response({"message": "ok"})


def create_bench_app(settings: Settings) -> web.Application:
    app = create_app(settings)
    app.router.add_routes(routes)
    return app
