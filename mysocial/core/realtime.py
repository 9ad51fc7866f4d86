"""Socket.IO: authenticated connections, one room per user, presence in Redis.

Emits go through python-socketio's Redis manager, so an event emitted on any
API instance (or by a worker, through a write-only manager) reaches the
user's sockets wherever they are connected.
"""
from __future__ import annotations

import asyncio
import logging
from http.cookies import SimpleCookie
from typing import Awaitable, Callable, Iterable

import orjson
import socketio
from aiohttp import web

from mysocial.config import Settings
from mysocial.core.errors import ApiError
from mysocial.core import presence
from mysocial.core.appkeys import SIO
from mysocial.core.redis import ASYNC_OPTIONS
from mysocial.core.security import claims_from

log = logging.getLogger("mysocial.realtime")

CHANNEL = "mysocial"
OfflineHook = Callable[[str], Awaitable[None]]
OFFLINE = web.AppKey("offline_hooks", list)



def room(user_id: str) -> str:
    return f"user:{user_id}"


def rooms(user_ids: Iterable[str]) -> list[str]:
    return [room(u) for u in dict.fromkeys(user_ids) if u]


class _Json:
    """orjson for Socket.IO packets and the Redis manager's messages: the stdlib json took
    a fifth of an emit's CPU. (A server's manager uses the server's JSON module, so it is
    given to the server; a write-only manager takes its own.)"""

    @staticmethod
    def dumps(obj, **_) -> str:
        return orjson.dumps(obj, option=orjson.OPT_NON_STR_KEYS).decode()

    loads = staticmethod(orjson.loads)


class Manager(socketio.AsyncRedisManager):
    """python-socketio's Redis manager, with four changes to how it handles an emit.

    - An instance with no socket in the target rooms does no local work (the
      library encodes the packet first, then looks for recipients).
    - `skip_sid` may name rooms (`user:<id>`): each instance skips its own
      sockets in them, so a broadcast can leave out a user connected anywhere.
      (Socket ids never contain ':'.)
    - Messages for the other instances are published by one task, in order,
      every message that is waiting in one pipelined round trip: under load a
      publish no longer costs each request a round trip of its own (a chat
      message is three events). `emit` returns once the message is queued.
    - A plain JSON payload is encoded once, without the library's scan for bytes.
    """

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._outbox: list = []
        self._publisher: asyncio.Task | None = None

    async def _handle_emit(self, message: dict) -> None:
        namespace = message.get("namespace") or "/"
        present = self.rooms.get(namespace)
        room = message.get("room")
        targets = room if isinstance(room, list) else [room]
        if not present or not any(r in present for r in targets):
            return
        skip = message.get("skip_sid")
        if isinstance(skip, list) and any(":" in s for s in skip):
            sids = [s for s in skip if ":" not in s]
            sids += [sid for sid, _ in self.get_participants(namespace, [s for s in skip if ":" in s])]
            message = {**message, "skip_sid": sids}
        await super()._handle_emit(message)

    async def emit(self, event, data, namespace=None, room=None, skip_sid=None, callback=None, to=None, **kwargs):
        """The library's emit, minus its recursive scan of the payload for bytes (a tenth of
        a chat message's CPU): orjson refuses bytes, so a payload it encodes has none. Events
        with callbacks or binary payloads take the library's path."""
        if callback is None and not kwargs.get("ignore_queue"):
            message = {"method": "emit", "event": event, "data": list(data) if isinstance(data, tuple) else [data],
                       "binary": False, "namespace": namespace or "/", "room": to or room, "skip_sid": skip_sid,
                       "callback": None, "host_id": self.host_id}
            try:
                encoded = self.json.dumps(message)
            except TypeError:
                pass
            else:
                await self._handle_emit(message)
                self._send(encoded)
                return
        await super().emit(event, data, namespace=namespace, room=room, skip_sid=skip_sid, callback=callback,
                           to=to, **kwargs)

    async def _publish(self, data) -> None:
        self._send(self.json.dumps(data))

    def _send(self, encoded: str) -> None:
        self._outbox.append(encoded)
        if self._publisher is None or self._publisher.done():
            self._publisher = asyncio.create_task(self._publish_waiting())

    async def _publish_waiting(self) -> None:
        while self._outbox:
            batch, self._outbox = self._outbox, []
            try:
                if not self.connected:
                    self._redis_connect()
                async with self.redis.pipeline(transaction=False) as pipe:
                    for encoded in batch:
                        pipe.publish(self.channel, encoded)
                    await pipe.execute()
            except Exception:
                log.warning("publishing %d messages in one batch failed; one by one now", len(batch))
                self.connected = False
                for encoded in batch:
                    await self._publish_one(encoded)

    async def _publish_one(self, encoded: str) -> None:
        """The library's `_publish` (a reconnect and a second try), for a message encoded already."""
        for attempt in range(2):
            try:
                if not self.connected:
                    self._redis_connect()
                await self.redis.publish(self.channel, encoded)
                return
            except Exception:
                self.connected = False
                if attempt:
                    log.exception("cannot publish to Redis; message dropped")

    async def flush(self) -> None:
        """Wait until every queued message is published (before shutting down)."""
        while self._publisher is not None and not self._publisher.done():
            await self._publisher


def make_server(settings: Settings, *, manager: bool = True) -> socketio.AsyncServer:
    mgr = Manager(settings.redis_url, channel=CHANNEL, redis_options=dict(ASYNC_OPTIONS)) if manager else None
    return socketio.AsyncServer(
        async_mode="aiohttp",
        client_manager=mgr,
        json=_Json,
        cors_allowed_origins=[settings.client_url.rstrip("/")],
        cors_credentials=True,
        ping_interval=25,
        ping_timeout=20,
    )


def write_only_emitter(settings: Settings) -> socketio.RedisManager:
    """For workers: emit to sockets on any API instance without serving any."""
    return socketio.RedisManager(settings.redis_url, channel=CHANNEL, write_only=True, json=_Json)


ANNOUNCE_EVERY = 0.5  # seconds between two "user online" broadcasts from one instance


class Throttled:
    """Awaiting it runs `send` now, or once `every` seconds after the last run if one just
    happened; the last call is always followed by a run, so the latest state goes out.

    Every (dis)connection broadcasts the whole online list to every socket: with n users
    connecting together that was n broadcasts of up to n names to n sockets, and 1,000
    clients connecting stalled other events for seconds (bench/fanout.py).
    """

    def __init__(self, send: Callable[[], Awaitable[None]], every: float):
        self._send, self._every = send, every
        self._dirty = False
        self._task: asyncio.Task | None = None

    async def __call__(self) -> None:
        self._dirty = True
        if self._task is None or self._task.done():
            self._task = asyncio.create_task(self._run())

    async def _run(self) -> None:
        while self._dirty:
            self._dirty = False
            try:
                await self._send()
            except Exception:
                log.exception("broadcast failed")
            await asyncio.sleep(self._every)

    def cancel(self) -> None:
        if self._task is not None:
            self._task.cancel()


def attach(app: web.Application, settings: Settings, sio: socketio.AsyncServer) -> None:
    """Wire connection auth, rooms, presence and the contract's client events."""
    sio.attach(app)
    app[SIO] = sio
    app[OFFLINE] = []
    app.cleanup_ctx.append(presence.heartbeat_ctx)
    local: dict[str, tuple[str, str]] = {}  # sid -> (userId, username), this instance's sockets

    async def broadcast() -> None:
        await sio.emit("user online", await presence.online(app))

    announce = Throttled(broadcast, ANNOUNCE_EVERY)

    async def stop_announcing(app: web.Application) -> None:
        announce.cancel()
        if isinstance(sio.manager, Manager):
            await sio.manager.flush()

    app.on_cleanup.append(stop_announcing)

    @sio.event
    async def connect(sid, environ, auth):
        cookies = {k: m.value for k, m in SimpleCookie(environ.get("HTTP_COOKIE", "")).items()}
        header = environ.get("HTTP_AUTHORIZATION")
        if not header and isinstance(auth, dict) and auth.get("token"):
            header = f"Bearer {auth['token']}"
        try:
            claims = claims_from(settings, cookies, header)
        except ApiError as exc:
            raise socketio.exceptions.ConnectionRefusedError(exc.message) from None
        user = {"userId": claims["userId"], "username": claims["username"]}
        await sio.save_session(sid, user)
        await sio.enter_room(sid, room(user["userId"]))
        local[sid] = (user["userId"], user["username"])
        await presence.join(app, user["username"])
        await announce()

    async def leave(sid: str) -> bool:
        """Forget a socket; when it was the user's last one anywhere, run the offline hooks."""
        user = local.pop(sid, None)
        if user is None:
            return False
        if await presence.leave(app, user[1]):
            for hook in app[OFFLINE]:
                await hook(user[0])
        return True

    @sio.event
    async def disconnect(sid, reason=None):
        if await leave(sid):
            await announce()

    @sio.on("setup")
    async def setup(sid, data=None):
        await sio.emit("user online", await presence.online(app), to=sid)

    for ignored in ("join room", "reaction", "comment", "unfollow user", "block user", "unblock user"):
        # The original re-broadcast these client claims to everyone; MySocial emits
        # the real events itself after the REST call succeeds.
        sio.on(ignored, lambda sid, data=None: None)

    async def on_shutdown(app: web.Application) -> None:
        for sid in list(local):
            await leave(sid)
            await sio.disconnect(sid)

    app.on_shutdown.append(on_shutdown)


def on_offline(app: web.Application, hook: OfflineHook) -> None:
    """Run `hook(user_id)` when a user's last socket, on any instance, goes away."""
    app[OFFLINE].append(hook)


async def emit_to(app: web.Application, event: str, data, user_ids: Iterable[str]) -> None:
    targets = rooms(user_ids)
    if targets:
        await app[SIO].emit(event, data, to=targets)


async def emit_except(app: web.Application, event: str, data, user_ids: Iterable[str]) -> None:
    """To every connected socket, on every instance, except the sockets of `user_ids`."""
    await app[SIO].emit(event, data, skip_sid=rooms(user_ids) or None)
