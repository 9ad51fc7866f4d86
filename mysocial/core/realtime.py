"""Socket.IO: authenticated connections, one room per user, presence in Redis.

Emits go through python-socketio's Redis manager, so an event emitted on any
API instance (or by a worker, through a write-only manager) reaches the
user's sockets wherever they are connected.
"""
from __future__ import annotations

import asyncio
import logging
import time
from http.cookies import SimpleCookie
from typing import Awaitable, Callable, Iterable

import orjson
import socketio
from aiohttp import web

from mysocial.config import Settings
from mysocial.core import presence, ratelimit, security
from mysocial.core.appkeys import SIO
from mysocial.core.redis import ASYNC_OPTIONS

log = logging.getLogger("mysocial.realtime")

CHANNEL = "mysocial"
OfflineHook = Callable[[str], Awaitable[None]]
OFFLINE = web.AppKey("offline_hooks", list)



AUTHENTICATED = "users"  # every signed-in socket; guests are in no room at all


def room(user_id: str) -> str:
    return f"user:{user_id}"


def session_room(session_id: str) -> str:
    return f"session:{session_id}"


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

    async def disconnect_room(self, name: str, namespace: str = "/") -> None:
        """Disconnect the sockets in room `name` here and on every other instance: the library's
        `disconnect` message, whose `sid` names a room (socket ids never contain ':')."""
        message = {"method": "disconnect", "sid": name, "namespace": namespace, "host_id": self.host_id}
        await self._handle_disconnect(message)
        await self._publish(message)

    async def _handle_disconnect(self, message: dict) -> None:
        name = message.get("sid") or ""
        if ":" not in name:
            return await super()._handle_disconnect(message)
        namespace = message.get("namespace") or "/"
        for sid, _ in list(self.get_participants(namespace, name)):
            await self.server.disconnect(sid, namespace=namespace, ignore_queue=True)

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


def _pubsub_options(url: str) -> dict:
    """The manager's client options; a `redis+sentinel://` URL keeps redis-py's own connection class
    (the Sentinel pool's, which follows a failover)."""
    options = dict(ASYNC_OPTIONS)
    if url.startswith(("redis+sentinel://", "valkey+sentinel://")):
        del options["connection_class"]
    return options


def make_server(settings: Settings, *, manager: bool = True) -> socketio.AsyncServer:
    url = settings.pubsub_redis
    mgr = Manager(url, channel=CHANNEL, redis_options=_pubsub_options(url)) if manager else None
    return socketio.AsyncServer(
        async_mode="aiohttp",
        client_manager=mgr,
        json=_Json,
        cors_allowed_origins=[settings.client_url.rstrip("/")],
        cors_credentials=True,
        ping_interval=25,
        ping_timeout=20,
    )


def write_only_emitter(settings: Settings) -> socketio.AsyncRedisManager:
    """For workers: emit to sockets on any API instance without serving any (`emit(event, data,
    to=rooms)`, as the server's)."""
    return socketio.AsyncRedisManager(settings.pubsub_redis, channel=CHANNEL, write_only=True, json=_Json,
                                      redis_options=_pubsub_options(settings.pubsub_redis))


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


Authenticate = Callable[..., Awaitable[tuple]]  # mysocial.sessions.guard.authenticate
EVENTS_PER_SECOND, EVENT_BURST = 10, 20


class EventBudget:
    """A token bucket per socket for client events (`typing` and the rest): beyond EVENT_BURST
    at once, or EVENTS_PER_SECOND sustained, events are dropped. Local to the instance, like the
    socket itself."""

    def __init__(self, rate: float = EVENTS_PER_SECOND, burst: float = EVENT_BURST):
        self.rate, self.burst = rate, burst
        self._buckets: dict[str, tuple[float, float]] = {}

    def allow(self, sid: str) -> bool:
        now = time.monotonic()
        tokens, last = self._buckets.get(sid, (self.burst, now))
        tokens = min(self.burst, tokens + (now - last) * self.rate)
        if tokens < 1:
            self._buckets[sid] = (tokens, now)
            return False
        self._buckets[sid] = (tokens - 1, now)
        return True

    def forget(self, sid: str) -> None:
        self._buckets.pop(sid, None)


BUDGET = web.AppKey("event_budget", EventBudget)


def attach(app: web.Application, settings: Settings, sio: socketio.AsyncServer, authenticate: Authenticate) -> None:
    """Wire connection auth, rooms, presence and the contract's client events.

    A connection with a live session (the `session` cookie, or `auth: {token}`) joins the
    rooms of its user, of its session and AUTHENTICATED; every event goes to such rooms. A
    connection without one is a guest: accepted (a client that is refused reconnects at once,
    forever: a signed-out tab made ~80 handshakes a second), in no room, so it receives nothing,
    and its events are ignored. When a signed-in client says `setup` on a guest socket, or on a
    socket of another user, the socket is disconnected: the client reconnects at once, with the
    cookie it has now. Connections are rate-limited per address (SOCKET_RATE_LIMIT a minute).
    """
    sio.attach(app)
    app[SIO] = sio
    app[OFFLINE] = []
    app[BUDGET] = EventBudget()
    app.cleanup_ctx.append(presence.heartbeat_ctx)
    local: dict[str, tuple[str, str]] = {}  # sid -> (userId, username), this instance's signed-in sockets

    async def broadcast() -> None:
        await sio.emit("user online", await presence.online(app), to=AUTHENTICATED)

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
        if not header and isinstance(auth, dict) and isinstance(auth.get("token"), str):
            header = f"Bearer {auth['token']}"
        address = environ.get("REMOTE_ADDR") or "unknown"
        budget = ratelimit.limit("socket", f"ip:{address}", settings.socket_rate_limit)
        token = security.token_from(settings, cookies, header)
        claims, session, counts = await authenticate(app, token, (ratelimit.count(budget),) if budget else (),
                                                     cookie=not header and security.COOKIE in cookies)
        if budget and not counts[0]:
            raise socketio.exceptions.ConnectionRefusedError(ratelimit.MESSAGE)
        if claims is None:
            await sio.save_session(sid, {})
            return
        user = {"userId": claims["userId"], "username": claims["username"], "sessionId": session["_id"]}
        await sio.save_session(sid, user)
        for name in (room(user["userId"]), session_room(session["_id"]), AUTHENTICATED):
            await sio.enter_room(sid, name)
        local[sid] = (user["userId"], user["username"])
        await presence.join(app, user["username"])
        await announce()

    async def leave(sid: str) -> bool:
        """Forget a socket; when it was the user's last one anywhere, run the offline hooks."""
        app[BUDGET].forget(sid)
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

    async def setup(sid, user, data=None):
        claimed = data.get("userId") if isinstance(data, dict) else None
        if claimed is not None and str(claimed).lower() != user["username"].lower():
            await sio.disconnect(sid)  # signed in as someone else since: reconnect with the cookie of now
            return
        await sio.emit("user online", await presence.online(app), to=sid)

    async def setup_guest(sid, data=None):
        await sio.disconnect(sid)  # signed in since it connected: reconnect with the session cookie

    on(app, "setup", setup, guest=setup_guest)
    for ignored in ("join room", "reaction", "comment", "unfollow user", "block user", "unblock user"):
        # The original re-broadcast these client claims to everyone; MySocial emits
        # the real events itself after the REST call succeeds.
        on(app, ignored, lambda sid, user, data=None: None)

    async def on_shutdown(app: web.Application) -> None:
        for sid in list(local):
            await leave(sid)
            await sio.disconnect(sid)

    app.on_shutdown.append(on_shutdown)


def on(app: web.Application, event: str, handler, guest=None) -> None:
    """Handle a client event: `handler(sid, user, data)` for signed-in sockets (`user`: userId,
    username, sessionId), `guest(sid, data)` (if given) for guests; within the socket's EventBudget."""
    sio = app[SIO]

    async def dispatch(sid, data=None):
        if not app[BUDGET].allow(sid):
            return None
        user = await sio.get_session(sid)
        if user:
            return await handler(sid, user, data)
        if guest is not None:
            return await guest(sid, data)
        return None

    sio.on(event, dispatch)


async def disconnect_room(app: web.Application, name: str) -> None:
    """Disconnect every socket in room `name`, on every instance."""
    sio = app[SIO]
    if isinstance(sio.manager, Manager):
        await sio.manager.disconnect_room(name)
        return
    for sid, _ in list(sio.manager.get_participants("/", name)):
        await sio.disconnect(sid)


def on_offline(app: web.Application, hook: OfflineHook) -> None:
    """Run `hook(user_id)` when a user's last socket, on any instance, goes away."""
    app[OFFLINE].append(hook)


async def emit_to(app: web.Application, event: str, data, user_ids: Iterable[str]) -> None:
    targets = rooms(user_ids)
    if targets:
        await app[SIO].emit(event, data, to=targets)


async def emit_except(app: web.Application, event: str, data, user_ids: Iterable[str]) -> None:
    """To every signed-in socket, on every instance, except the sockets of `user_ids`."""
    await app[SIO].emit(event, data, to=AUTHENTICATED, skip_sid=rooms(user_ids) or None)
