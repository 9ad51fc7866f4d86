"""`python -m bench.seeded_mongo`: the MongoDB wire server (memory engine) that can be loaded in bulk.

It prints `listening <port>`, then reads seed requests on stdin, one JSON line each:
`{"db": ..., "collection": ..., "template": {...}, "count": n}` stores `n` copies of the
template (a document as the API stored it, ids and dates as `{"$oid"}` / `{"$date"}`), each
with a new `_id` and a `createdAt` one second older than the one before, and prints
`seeded <n>`. Through the wire protocol the engine stores one document at a time and checks
each against every stored one, which makes 100,000 posts an hour's work; its own batch
insert makes them seconds.
"""
from __future__ import annotations

import asyncio
import sys
from datetime import timedelta

from bson import ObjectId, json_util

BATCH = 10_000


async def seed(engine, request: dict) -> int:
    template = json_util.loads(json_util.dumps(request["template"]))
    newest = template["createdAt"]
    docs = []
    for n in range(request["count"]):
        docs.append({**template, "_id": ObjectId(), "createdAt": newest - timedelta(seconds=n + 1),
                     **({"post": f"{template.get('post', '')} {n}"} if "post" in template else {})})
        if len(docs) == BATCH:
            await engine.insert_documents(request["db"], request["collection"], docs)
            docs = []
    if docs:
        await engine.insert_documents(request["db"], request["collection"], docs)
    return request["count"]


async def serve() -> None:
    from mongoeco.engines.memory import MemoryEngine
    from mongoeco.wire import AsyncMongoEcoProxyServer

    engine = MemoryEngine()
    loop = asyncio.get_running_loop()
    reader = asyncio.StreamReader()
    await loop.connect_read_pipe(lambda: asyncio.StreamReaderProtocol(reader), sys.stdin)
    async with AsyncMongoEcoProxyServer(engine=engine, host="127.0.0.1", port=0) as server:
        print(f"listening {server.address.port}", flush=True)
        while line := await reader.readline():
            count = await seed(engine, json_util.loads(line))
            print(f"seeded {count}", flush=True)


if __name__ == "__main__":
    asyncio.run(serve())
