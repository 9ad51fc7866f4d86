"""`python -m bench.bare --cpu N`: the ceiling the real routes are compared with.

A bare aiohttp app on uvloop, no middleware, the same asyncio Redis client
the API uses (redis-py + hiredis, `core.redis.async_client`):
- `GET /json`: a JSON body;
- `POST /write`: one MULTI/EXEC round trip of HSET + ZADD + INCR;
- `GET /read`: one pipeline of ZREVRANGE + 10 HGETALL (of the ids the last
  ZREVRANGE answered), decoded and answered as JSON.
PORT and REDIS_URL come from the environment.
"""
from __future__ import annotations

import argparse
import itertools
import os

import orjson
from aiohttp import web

from bench.server import pin
from mysocial.cli import use_uvloop
from mysocial.core.redis import async_client, from_hash

ITEMS = "ceiling:items"
SEQ = "ceiling:seq"
PAGE = 10
CLIENT = web.AppKey("client", object)
LATEST = web.AppKey("latest", list)
NUMBERS = itertools.count(1)


def item_key(n: int | bytes) -> str:
    return f"ceiling:item:{int(n)}"


def answer(data: object, status: int = 200) -> web.Response:
    return web.Response(body=orjson.dumps(data), status=status, content_type="application/json")


async def bare_json(request: web.Request) -> web.Response:
    return answer({"message": "ok"})


async def write(request: web.Request) -> web.Response:
    raw = await request.read()
    text = orjson.loads(raw).get("post", "") if raw else ""
    r = request.app[CLIENT]
    n = next(NUMBERS)
    async with r.pipeline(transaction=True) as pipe:
        pipe.hset(item_key(n), mapping={"_id": orjson.dumps(n), "post": orjson.dumps(text)})
        pipe.zadd(ITEMS, {str(n): n})
        pipe.incr(SEQ)
        await pipe.execute()
    return answer({"message": "ok", "id": n}, status=201)


async def read(request: web.Request) -> web.Response:
    async with request.app[CLIENT].pipeline(transaction=False) as pipe:
        pipe.zrevrange(ITEMS, 0, PAGE - 1)
        for n in request.app[LATEST]:
            pipe.hgetall(item_key(n))
        ids, *raws = await pipe.execute()
    request.app[LATEST] = ids
    return answer({"message": "ok", "items": [from_hash(raw) for raw in raws if raw]})


async def client_ctx(app: web.Application):
    app[CLIENT] = async_client(os.environ["REDIS_URL"])
    app[LATEST] = await app[CLIENT].zrevrange(ITEMS, 0, PAGE - 1)
    yield
    await app[CLIENT].aclose()


def create_app() -> web.Application:
    app = web.Application()
    app.cleanup_ctx.append(client_ctx)
    app.router.add_get("/json", bare_json)
    app.router.add_post("/write", write)
    app.router.add_get("/read", read)
    return app


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.bare")
    parser.add_argument("--cpu", type=int, help="pin this process to one CPU")
    args = parser.parse_args(argv)
    pin({args.cpu} if args.cpu is not None else None)
    use_uvloop()
    web.run_app(create_app(), host="127.0.0.1", port=int(os.environ["PORT"]), access_log=None, print=None)


if __name__ == "__main__":
    main()
