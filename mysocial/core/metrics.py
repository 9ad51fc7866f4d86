"""Prometheus metrics: request latency by route, cache hits and misses, queue depths,
the pending ledger and failed jobs (the last three read from Redis at scrape time)."""
from __future__ import annotations

import asyncio
import hmac
import itertools
import os
import re
import time
from bisect import bisect_left

from aiohttp import web
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, Counter, Gauge, generate_latest
from prometheus_client.core import HistogramMetricFamily
from prometheus_client.utils import floatToGoString

from mysocial.core.appkeys import BATCH, JOBS, SETTINGS
from mysocial.core.errors import NotAuthorized, NotFound
from mysocial.core.logs import ACCESS, request_id
from mysocial.core.openapi import doc
from queues import QUEUES

BOUNDS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5)


class Latencies:
    """The request latency histogram, counted in plain lists and handed to Prometheus when scraped:
    prometheus_client's Histogram takes a lock for its bucket and one for its sum on every
    request (a tenth of a bare request's CPU). Only the event loop's thread observes and scrapes."""

    def __init__(self) -> None:
        self._rows: dict[tuple[str, str, int], list] = {}  # labels -> [count per bucket, +Inf, sum]

    def observe(self, method: str, route: str, status: int, seconds: float) -> None:
        row = self._rows.get((method, route, status))
        if row is None:
            row = self._rows[(method, route, status)] = [0] * (len(BOUNDS) + 1) + [0.0]
        row[bisect_left(BOUNDS, seconds)] += 1
        row[-1] += seconds

    def collect(self):
        family = HistogramMetricFamily("mysocial_http_request_duration_seconds", "API request latency",
                                       labels=["method", "route", "status"])
        edges = [floatToGoString(b) for b in BOUNDS] + ["+Inf"]
        for (method, route, status), row in self._rows.items():
            family.add_metric([method, route, str(status)], list(zip(edges, itertools.accumulate(row[:-1]))), row[-1])
        yield family


REGISTRY = CollectorRegistry()
LATENCY = Latencies()
REGISTRY.register(LATENCY)
CACHE = Counter("mysocial_cache_requests", "Cache reads by result", ["result"], registry=REGISTRY)
QUEUE_DEPTH = Gauge("mysocial_queue_depth", "Jobs waiting per queue", ["queue"], registry=REGISTRY)
FAILED = Gauge("mysocial_failed_jobs", "Jobs in the failed registry per queue", ["queue"], registry=REGISTRY)
PENDING_WRITES = Gauge("mysocial_pending_writes", "Writes answered but not yet in MongoDB", registry=REGISTRY)
RECONCILED = Gauge("mysocial_reconciler_requeued_total", "Persist jobs re-enqueued by the reconciler, ever",
                   registry=REGISTRY)
RECONCILED_KEY = "stats:reconcile:requeued"

_ID = re.compile(r"^[A-Za-z0-9._-]{1,64}$")


_HIT, _MISS = CACHE.labels("hit"), CACHE.labels("miss")


def cache_result(hit: bool, n: int = 1) -> None:
    (_HIT if hit else _MISS).inc(n)


_RID_PREFIX = os.urandom(8).hex()  # then a count: unique, without a system call per request
_RID_COUNT = itertools.count()


@web.middleware
async def observe(request: web.Request, handler):
    """Request id (kept from X-Request-Id when sane), latency histogram, one access line (core.logs.ACCESS)."""
    incoming = request.headers.get("X-Request-Id", "")
    rid = incoming if _ID.match(incoming) else f"{_RID_PREFIX}{next(_RID_COUNT):016x}"
    token = request_id.set(rid)
    start = time.perf_counter()
    status = 500
    try:
        response = await handler(request)
        status = response.status
        response.headers["X-Request-Id"] = rid
        return response
    except web.HTTPException as exc:
        status = exc.status
        raise
    finally:
        elapsed = time.perf_counter() - start
        resource = request.match_info.route.resource
        route = resource.canonical if resource is not None else "unmatched"
        LATENCY.observe(request.method, route, status, elapsed)
        if ACCESS.on:
            ACCESS.write(request.method, request.path, route, status, round(elapsed * 1000, 2), rid)
        request_id.reset(token)


@doc("Prometheus metrics (METRICS_TOKEN as a bearer token; off in production without one)", auth=False, text=True,
     errors=(401, 404))
async def scrape(request: web.Request) -> web.Response:
    """Prometheus text. With METRICS_TOKEN set it wants `Authorization: Bearer <token>`; in
    production without one it is off (404): queue depths and routes are nobody else's business."""
    settings = request.app[SETTINGS]
    wanted = settings.metrics_token
    if settings.production and not wanted:
        raise NotFound("/metrics not found")
    if wanted and not hmac.compare_digest(request.headers.get("Authorization", ""), f"Bearer {wanted}"):
        raise NotAuthorized("Token is invalid. Please login again.")
    from mysocial.core.writepath import PENDING  # (the write path imports this module)

    def queue_all(pipe) -> None:
        for queue in QUEUES:
            pipe.llen(f"rq:queue:{queue}")
            pipe.zcard(f"rq:failed:{queue}")

    def ledger(pipe) -> None:
        pipe.get(RECONCILED_KEY)
        pipe.hlen(PENDING)

    counts, (reconciled, pending) = await asyncio.gather(request.app[JOBS].run(queue_all),
                                                         request.app[BATCH].run(ledger))
    for n, queue in enumerate(QUEUES):
        QUEUE_DEPTH.labels(queue).set(counts[2 * n])
        FAILED.labels(queue).set(counts[2 * n + 1])
    RECONCILED.set(int(reconciled or 0))
    PENDING_WRITES.set(pending)
    return web.Response(body=generate_latest(REGISTRY), headers={"Content-Type": CONTENT_TYPE_LATEST})
