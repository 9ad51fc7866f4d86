"""Typed keys for the resources an Application holds."""
from __future__ import annotations

import redis.asyncio as aredis
import socketio
from aiohttp import web

from mysocial.config import Settings

SETTINGS = web.AppKey("settings", Settings)
REDIS = web.AppKey("redis", aredis.Redis)
BATCH = web.AppKey("redis_batch", object)  # mysocial.core.redis.Batcher: the cache and the ledger
JOBS = web.AppKey("jobs_batch", object)  # the Batcher of the queues' Redis (BATCH itself when it is one Redis)
MONGO = web.AppKey("mongo", object)
SIO = web.AppKey("sio", socketio.AsyncServer)
MEDIA = web.AppKey("media", object)
