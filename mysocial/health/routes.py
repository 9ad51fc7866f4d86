"""Health probes (no base path)."""
from __future__ import annotations

import asyncio
import os
import time
from datetime import datetime, timezone

from aiohttp import web

from mysocial.core.openapi import doc
from mysocial.core.appkeys import SETTINGS
from mysocial.core.errors import BadRequest
from mysocial.core.http import digits

routes = web.RouteTableDef()


@routes.get("/health")
@doc("Liveness: instance healthy, with process id and date", auth=False, text=True)
async def health(request: web.Request) -> web.Response:
    return web.Response(text=f"Server instance is healthy with process id {os.getpid()} on {datetime.now(timezone.utc)}")


@routes.get("/env")
@doc("The environment's name", auth=False, text=True)
async def env(request: web.Request) -> web.Response:
    return web.Response(text=f"This is the {request.app[SETTINGS].env} environment.")


@routes.get("/instance")
@doc("The instance's name", auth=False, text=True)
async def instance(request: web.Request) -> web.Response:
    return web.Response(text=f"Server is running on instance {request.app[SETTINGS].instance} with process id {os.getpid()}")


def fib(n: int) -> int:
    a, b = 0, 1
    for _ in range(n):
        a, b = b, a + b
    return a


@routes.get("/fibo/{num}")
@doc("fib(num) and the time it took (a CPU load probe)", auth=False, text=True,
     params={"num": {"type": "string", "pattern": "^(10000|[0-9]{1,4})$"}})
async def fibo(request: web.Request) -> web.Response:
    raw = request.match_info["num"]
    num = digits(raw)
    if num is None or num > 10_000:
        raise BadRequest("num must be an integer from 0 to 10000")
    start = time.perf_counter()
    value = await asyncio.to_thread(fib, num)
    took = (time.perf_counter() - start) * 1000
    return web.Response(text=f"Fibonacci series of {raw} is {value} and it took {took:.2f}ms")
