"""A MongoDB wire-protocol server for `mysocial dev` and the tests, in a process of its own.

No `mongod` can be installed on the project's build machines, so dev and the
tests run mongoeco's wire server (memory engine for tests, SQLite for dev)
and talk to it with the real PyMongo driver over TCP. Production always
points MONGO_URL at a real MongoDB.

    python -m mysocial.mongoserver [--engine memory|sqlite] [--path FILE] [--port N]

prints `listening <port>` once it accepts connections and serves until SIGTERM
or SIGINT, closing the engine cleanly (the SQLite file is complete on exit).
"""
from __future__ import annotations

import argparse
import asyncio
import os
import select
import signal
import subprocess
import sys
import tempfile
from pathlib import Path

READY = "listening"
MISSING = ("the MongoDB wire server needs mongoeco (Python 3.13+): pip install 'mysocial[dev]', "
           "or set MONGO_URL to a MongoDB server")


def available() -> bool:
    try:
        import mongoeco  # noqa: F401
    except ImportError:
        return False
    return True


def _engines():
    """mongoeco's engines, without two full scans that made every insert cost O(collection)
    (100 posts took 2 s to insert into 2,000 before; 0.04 s now).

    Both engines check an inserted `_id` against the stored ones by exact key, then, for an
    insert of one document (an `insert` command inserts its documents one by one, and an
    upsert inserts one), compare it with *every* stored `_id` as well, which is needed only
    where distinct BSON values are equal (numbers: 1 and 1.0). And the memory engine answers a
    query on an `_id` that is not stored (an upsert that inserts) by matching every document.
    Here both are skipped for ObjectId and string ids, whose exact key is the whole answer,
    and kept for the rest."""
    from bson import ObjectId
    from mongoeco.core.identity import id_contains_numeric_value
    from mongoeco.engines.memory import MemoryEngine
    from mongoeco.engines.sqlite import SQLiteEngine

    def needed(document: dict, scan: bool) -> bool:
        return scan and id_contains_numeric_value(document.get("_id"))

    class Memory(MemoryEngine):
        def _candidate_items_for_plan_locked(self, coll, query_plan, *, collation=None, **options):
            wanted = self._direct_id_lookup_from_plan(query_plan)
            if collation is None and isinstance(wanted, (ObjectId, str)) and self._storage_key(wanted) not in coll:
                return []
            return super()._candidate_items_for_plan_locked(coll, query_plan, collation=collation, **options)

        def _ensure_unique_indexes(self, db_name, coll_name, candidate, *, scan_payload_id=False,
                                   check_id_storage=False, **options):
            scan = needed(candidate, scan_payload_id) if check_id_storage else scan_payload_id
            return super()._ensure_unique_indexes(db_name, coll_name, candidate, scan_payload_id=scan,
                                                  check_id_storage=check_id_storage, **options)

    class SQLite(SQLiteEngine):
        def _validate_document_against_unique_indexes(self, db_name, coll_name, document, *, scan_payload_id=False,
                                                      skip_id_check=False, **options):
            scan = scan_payload_id if skip_id_check else needed(document, scan_payload_id)
            return super()._validate_document_against_unique_indexes(
                db_name, coll_name, document, scan_payload_id=scan, skip_id_check=skip_id_check, **options)

    return Memory, SQLite


async def _serve(engine: str, path: str | None, host: str, port: int) -> None:
    from mongoeco.wire import AsyncMongoEcoProxyServer

    Memory, SQLite = _engines()
    store = SQLite(path) if engine == "sqlite" else Memory()
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(signum, stop.set)
    async with AsyncMongoEcoProxyServer(engine=store, host=host, port=port) as server:
        print(f"{READY} {server.address.port}", flush=True)
        await stop.wait()


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m mysocial.mongoserver")
    parser.add_argument("--engine", choices=("memory", "sqlite"), default="memory")
    parser.add_argument("--path", help="the SQLite file (sqlite engine)")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=0, help="0: any free port (printed)")
    args = parser.parse_args(argv)
    if not available():
        parser.exit(2, MISSING + "\n")
    if args.engine == "sqlite":
        if not args.path:
            parser.error("--path is required with --engine sqlite")
        Path(args.path).parent.mkdir(parents=True, exist_ok=True)
    asyncio.run(_serve(args.engine, args.path, args.host, args.port))


class MongoServer:
    """A wire server in a child process: `url` while it runs; `stop()` and `start()` again
    (on the same port, so clients reconnect by themselves)."""

    def __init__(self, engine: str = "memory", path: str | Path | None = None, port: int = 0):
        self.engine, self.path, self.port = engine, str(path) if path else None, port
        self.proc: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        return f"mongodb://127.0.0.1:{self.port}/?directConnection=true"

    def start(self, timeout: float = 30) -> str:
        if not available():
            raise RuntimeError(MISSING)
        args = [sys.executable, "-m", "mysocial.mongoserver", "--engine", self.engine, "--port", str(self.port)]
        if self.path:
            args += ["--path", self.path]
        self._log = tempfile.TemporaryFile("w+")  # a pipe nobody reads could fill and stall the server
        self.proc = subprocess.Popen(args, stdout=subprocess.PIPE, stderr=self._log, text=True,
                                     env={**os.environ, "PYTHONUNBUFFERED": "1"}, start_new_session=True)
        ready, _, _ = select.select([self.proc.stdout], [], [], timeout)
        line = self.proc.stdout.readline() if ready else ""  # one line once it listens, or EOF if it exits
        if not line.startswith(READY):
            self.proc.kill()
            self.proc.wait()
            self._log.seek(0)
            raise RuntimeError(f"the MongoDB wire server did not start: {line}{self._log.read()[-2000:]}")
        self.port = int(line.split()[1])
        return self.url

    def stop(self, kill: bool = False) -> None:
        """SIGTERM (a clean close) or SIGKILL; waits until the process is gone."""
        if self.proc is None or self.proc.poll() is not None:
            return
        self.proc.send_signal(signal.SIGKILL if kill else signal.SIGTERM)
        try:
            self.proc.wait(15)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()

    def __enter__(self) -> "MongoServer":
        self.start()
        return self

    def __exit__(self, *exc) -> None:
        self.stop()


if __name__ == "__main__":
    main()
