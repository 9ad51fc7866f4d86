"""core.redis.Batcher: concurrent reads and transactions share round trips, each keeps its own result."""
from __future__ import annotations

import asyncio

import pytest
import redis

from mysocial.core.redis import Batcher, async_client


@pytest.fixture
async def batcher(settings):
    client = async_client(settings.redis_url, retries=0)
    yield Batcher(client)
    await client.aclose()


async def test_concurrent_transactions_each_apply_once_and_see_their_own_results(batcher, r):
    def transfer(n: int):
        def queue(pipe) -> None:
            pipe.incrby("balance:a", -n)
            pipe.incrby("balance:b", n)
            pipe.sadd("transfers", n)
            pipe.smembers("transfers")
        return queue

    results = await asyncio.gather(*(batcher.transaction(transfer(n)) for n in range(1, 101)))
    assert int(r.get("balance:a")) == -5050 and int(r.get("balance:b")) == 5050
    for n, (a, b, added, members) in enumerate(results, start=1):
        assert a + b == 0 and added == 1
        assert isinstance(members, set) and str(n).encode() in members  # the client's response callbacks ran


async def test_reads_get_the_clients_reply_types(batcher, r):
    r.hset("h", mapping={"x": "1"})
    r.zadd("z", {"m": 2.5})
    got = await asyncio.gather(batcher.run(lambda p: (p.hgetall("h"), p.zscore("z", "m"), p.exists("h"))),
                               batcher.run(lambda p: p.hgetall("missing")))
    assert got == [[{b"x": b"1"}, 2.5, 1], [{}]]


async def test_an_error_goes_to_its_own_request_only(batcher, r):
    r.set("text", "not a number")

    def bad_read(pipe) -> None:
        pipe.incr("text")

    def bad_transaction(pipe) -> None:
        pipe.set("written-by-a-failing-transaction", 1)
        pipe.incr("text")  # fails when EXEC runs it; the SET before it stays done, as in Redis

    def refused_transaction(pipe) -> None:
        pipe.set("never-written", 1)
        pipe.execute_command("NOSUCHCOMMAND")  # refused when queued: EXECABORT, nothing runs

    def broken_code(pipe) -> None:
        pipe.set("never-written-either", 1)
        raise ValueError("a bug while queueing")

    outcomes = await asyncio.gather(
        batcher.run(bad_read), batcher.transaction(bad_transaction), batcher.transaction(refused_transaction),
        batcher.transaction(broken_code), batcher.transaction(lambda p: p.incr("counter")),
        batcher.run(lambda p: p.get("text")), return_exceptions=True)
    assert isinstance(outcomes[0], redis.ResponseError)
    assert isinstance(outcomes[1], redis.ResponseError)
    assert isinstance(outcomes[2], redis.exceptions.ExecAbortError)
    assert isinstance(outcomes[3], ValueError)
    assert outcomes[4:] == [[1], [b"not a number"]]
    assert r.exists("never-written-either") == 0
    assert r.get("written-by-a-failing-transaction") == b"1" and r.exists("never-written") == 0


async def test_a_lost_connection_fails_the_waiting_requests(settings):
    client = async_client("redis://127.0.0.1:1/0", retries=0)  # nothing listens there
    batcher = Batcher(client)
    outcomes = await asyncio.gather(batcher.run(lambda p: p.get("x")), batcher.transaction(lambda p: p.incr("x")),
                                    return_exceptions=True)
    assert all(isinstance(o, redis.ConnectionError) for o in outcomes)
    await client.aclose()


async def test_a_transaction_whose_reply_was_lost_is_not_run_again(settings, r):
    """A proxy relays the connection, but drops it instead of relaying the reply to EXEC. The
    request fails; the increment happened once (a retry would have applied it twice)."""
    redis_port = int(settings.redis_url.rsplit(":", 1)[1].split("/")[0])

    async def relay(reader, writer):
        upstream_reader, upstream_writer = await asyncio.open_connection("127.0.0.1", redis_port)
        exec_sent = asyncio.Event()

        async def to_redis():
            while data := await reader.read(65536):
                upstream_writer.write(data)
                if b"EXEC" in data:
                    exec_sent.set()

        forward = asyncio.create_task(to_redis())
        while data := await upstream_reader.read(65536):
            if exec_sent.is_set():
                break  # Redis ran the transaction and answered; the answer is lost
            writer.write(data)
        forward.cancel()
        writer.close()
        upstream_writer.close()

    proxy = await asyncio.start_server(relay, "127.0.0.1", 0)
    port = proxy.sockets[0].getsockname()[1]
    client = async_client(f"redis://127.0.0.1:{port}/0", retries=0)
    with pytest.raises(redis.ConnectionError):
        await Batcher(client).transaction(lambda p: p.incr("applied"))
    assert r.get("applied") == b"1"
    proxy.close()
    await client.aclose()


async def test_a_unix_socket_url_works(tmp_path):
    from tests.conftest import start_redis

    socket_path = tmp_path / "redis.sock"
    proc, _ = start_redis(tmp_path, "--unixsocket", str(socket_path))
    try:
        client = async_client(f"unix://{socket_path}?db=2", retries=0)
        batcher = Batcher(client)
        assert await batcher.transaction(lambda p: (p.set("k", "v"), p.get("k"))) == [True, b"v"]
        assert redis.Redis(unix_socket_path=str(socket_path), db=2).get("k") == b"v", "SELECT 2 ran"
        await batcher.close()
    finally:
        proc.kill()
        proc.wait()
