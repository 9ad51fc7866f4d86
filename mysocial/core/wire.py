"""The connection a Batcher sends its batches on (mysocial.core.redis.Batcher).

redis-py's pipeline spends ~10 µs of Python on each reply (parse_response, its connection's
read machinery); here the commands are written at once and the replies read by hiredis's
reader, error replies turned into redis-py's exceptions by redis-py's own parser.
"""
from __future__ import annotations

import asyncio
import socket

import hiredis
import redis
import redis.asyncio as aredis
from redis._parsers.base import BaseParser

KEEPALIVE = {getattr(socket, name): value for name, value in
             (("TCP_KEEPIDLE", 10), ("TCP_KEEPINTVL", 5), ("TCP_KEEPCNT", 3)) if hasattr(socket, name)}


_MORE = object()  # hiredis: not enough data for a whole reply yet (False is a RESP3 reply)


def _reader() -> "hiredis.Reader":
    """hiredis's reply reader, error replies as redis-py's exceptions (as redis-py's own parser)."""
    return hiredis.Reader(replyError=BaseParser.parse_error, notEnoughData=_MORE)


class Wire:
    """The one connection a Batcher sends its batches on: the commands written at once, the
    replies read with hiredis's reader. redis-py's pipeline spends ~10 µs of Python on each reply
    (parse_response, its connection's read machinery) — a fifth of a write request's CPU here.

    Made from a redis-py client's connection settings (host/port or unix path, db, credentials,
    TLS). No retry, as before: a connection that fails fails the batch (Redis may have run it)
    and is replaced before the next one, as is a connection whose peer has closed it."""

    def __init__(self, client: aredis.Redis):
        pool = client.connection_pool
        self._options = dict(pool.connection_kwargs)
        self._tls = "SSL" in pool.connection_class.__name__
        self._reader: asyncio.StreamReader | None = None
        self._writer: asyncio.StreamWriter | None = None
        self._replies: hiredis.Reader | None = None  # one per connection

    async def _connect(self) -> None:
        o = self._options
        timeout = o.get("socket_connect_timeout") or 5
        try:
            if o.get("path"):
                opened = asyncio.open_unix_connection(o["path"])
            else:
                opened = asyncio.open_connection(o.get("host", "localhost"), o.get("port", 6379),
                                                 ssl=self._tls_context() if self._tls else None)
            self._reader, self._writer = await asyncio.wait_for(opened, timeout)
        except (OSError, asyncio.TimeoutError) as exc:
            raise redis.ConnectionError(f"Error connecting to Redis: {exc}") from exc
        sock = self._writer.get_extra_info("socket")
        if sock is not None and not o.get("path"):
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_KEEPALIVE, 1)
            for option, value in KEEPALIVE.items():
                sock.setsockopt(socket.IPPROTO_TCP, option, value)
        self._replies = _reader()
        setup: list[tuple] = []
        credentials = ((o.get("username") or "default"), o["password"]) if o.get("password") else ()
        if str(o.get("protocol") or 3) == "3":  # what redis-py negotiates, so its callbacks fit the replies
            setup.append(("HELLO", 3, *(("AUTH", *credentials) if credentials else ())))
        elif credentials:
            setup.append(("AUTH", *credentials))
        if o.get("db"):
            setup.append(("SELECT", o["db"]))
        try:
            for reply in await self._exchange(b"".join(hiredis.pack_command(c) for c in setup), len(setup)):
                if isinstance(reply, Exception):
                    raise reply
        except BaseException:  # the connection's state is unknown: not used again
            self.close()
            raise

    def _tls_context(self):
        import ssl

        o = self._options
        context = ssl.create_default_context(cafile=o.get("ssl_ca_certs"), capath=o.get("ssl_ca_path"),
                                             cadata=o.get("ssl_ca_data"))
        if o.get("ssl_min_version") is not None:
            context.minimum_version = o["ssl_min_version"]
        if o.get("ssl_cert_reqs") in ("none", ssl.CERT_NONE):
            context.check_hostname = False
            context.verify_mode = ssl.CERT_NONE
        elif o.get("ssl_check_hostname") is False:
            context.check_hostname = False
        if o.get("ssl_certfile"):
            context.load_cert_chain(o["ssl_certfile"], o.get("ssl_keyfile"))
        return context

    async def _exchange(self, packed: bytes, count: int) -> list:
        self._writer.write(packed)
        replies = []
        while len(replies) < count:
            reply = self._replies.gets()
            if reply is _MORE:
                data = await self._reader.read(65536)
                if not data:
                    raise redis.ConnectionError("Connection closed by server.")
                self._replies.feed(data)
                continue
            replies.append(reply)
        return replies

    async def execute(self, commands: list[bytes]) -> list:
        """The replies to `commands` (each one packed), in order; error replies as redis-py's
        exceptions."""
        if self._writer is None or self._writer.is_closing() or self._reader.at_eof():
            self.close()
            await self._connect()
        try:
            return await self._exchange(b"".join(commands), len(commands))
        except redis.ConnectionError:
            self.close()
            raise
        except (OSError, asyncio.IncompleteReadError) as exc:
            self.close()
            raise redis.ConnectionError(str(exc)) from exc
        except BaseException:  # cancelled mid-batch: the connection is in an unknown state
            self.close()
            raise

    def close(self) -> None:
        if self._writer is not None:
            self._writer.close()
        self._reader = self._writer = None
