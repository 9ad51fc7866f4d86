"""Share the in-memory MongoDB stand-in with other processes.

`serve()` publishes this process's mongomock client on a local socket
(multiprocessing's manager protocol, with an auth key); a process given
`MONGO_URL=mongomock://127.0.0.1:<port>/<authkey-hex>` reaches it through
`RemoteDatabase`, which speaks the small part of PyMongo the workers use.
This lets a test SIGKILL a real worker *process* and still inspect what it
stored, and lets `mysocial worker` processes join a `mysocial dev` stack.
"""
from __future__ import annotations

import secrets
import threading
from multiprocessing.managers import BaseManager
from urllib.parse import urlparse

SCHEME = "mongomock"


class _Service:
    def __init__(self, client):
        self.client = client

    def call(self, db: str, coll: str, method: str, args: tuple, kwargs: dict):
        result = getattr(self.client[db][coll], method)(*args, **kwargs)
        if method in ("insert_one", "replace_one", "update_one", "update_many", "delete_one", "delete_many"):
            return {k: getattr(result, k, None) for k in ("inserted_id", "matched_count", "modified_count",
                                                          "deleted_count", "upserted_id")}
        return result

    def find(self, db: str, coll: str, args: tuple, kwargs: dict, ops: list) -> list:
        cursor = self.client[db][coll].find(*args, **kwargs)
        for name, a, k in ops:
            cursor = getattr(cursor, name)(*a, **k)
        return list(cursor)


class _Manager(BaseManager):
    pass


def serve(client, host: str = "127.0.0.1") -> str:
    """Serve `client` in a daemon thread; returns the MONGO_URL other processes should use."""
    service = _Service(client)
    _Manager.register("mongo", callable=lambda: service)
    key = secrets.token_bytes(16)
    server = _Manager(address=(host, 0), authkey=key).get_server()
    threading.Thread(target=server.serve_forever, daemon=True, name="mongo-share").start()
    port = server.address[1]
    return f"{SCHEME}://{host}:{port}/{key.hex()}"


class _Cursor:
    def __init__(self, remote, db, coll, args, kwargs):
        self._call = (remote, db, coll, args, kwargs)
        self._ops: list = []

    def __getattr__(self, name):
        if name not in ("sort", "skip", "limit"):
            raise AttributeError(name)

        def chain(*a, **k):
            self._ops.append((name, a, k))
            return self

        return chain

    def __iter__(self):
        remote, db, coll, args, kwargs = self._call
        return iter(remote.find(db, coll, args, kwargs, self._ops))


class _Collection:
    def __init__(self, remote, db: str, name: str):
        self._remote, self._db, self._name = remote, db, name

    def find(self, *args, **kwargs) -> _Cursor:
        return _Cursor(self._remote, self._db, self._name, args, kwargs)

    def __getattr__(self, method: str):
        def call(*args, **kwargs):
            return self._remote.call(self._db, self._name, method, args, kwargs)

        return call


class RemoteDatabase:
    def __init__(self, url: str, name: str):
        parsed = urlparse(url)
        _Manager.register("mongo")
        manager = _Manager(address=(parsed.hostname, parsed.port), authkey=bytes.fromhex(parsed.path.strip("/")))
        manager.connect()
        self._remote = manager.mongo()
        self._name = name

    def __getitem__(self, collection: str) -> _Collection:
        return _Collection(self._remote, self._name, collection)
