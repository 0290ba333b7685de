"""The limit store's Redis connection: replies in order, shared by concurrent callers, and
failures that end calls at once instead of hanging them."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator, Callable

import pytest

from accounts.resp_client import ReplyError, RespClient
from tests.limit_redis import limits_redis  # noqa: F401  (fixture)


@pytest.fixture
async def client(limits_redis: str) -> AsyncIterator[RespClient]:
    redis = RespClient(limits_redis, connect_timeout=0.5, command_timeout=1.0)
    yield redis
    await redis.aclose()


async def test_every_kind_of_reply_comes_back_in_order_with_refusals_in_place(client: RespClient) -> None:
    key = f"test:resp:{uuid.uuid4().hex}"
    replies = await client.execute(
        ("SET", key, "value"),
        ("GET", key),
        ("GET", f"{key}:absent"),
        ("INCR", f"{key}:n"),
        ("EVAL", "return {1, 'two', {3}}", 0),
        ("EVALSHA", "0" * 40, 0),
        ("PING",),
        ("DEL", key, f"{key}:n"),
    )
    assert replies[:5] == ["OK", b"value", None, 1, [1, b"two", [3]]]
    assert isinstance(replies[5], ReplyError) and replies[5].code == "NOSCRIPT"
    assert replies[6:] == ["PONG", 2]


async def test_concurrent_callers_share_one_connection_and_each_gets_its_own_reply(client: RespClient) -> None:
    connections: list[int] = []

    async def echo(text: str) -> bytes:
        reply, client_id = await client.execute(("ECHO", text), ("CLIENT", "ID"))
        connections.append(client_id)
        assert isinstance(reply, bytes)
        return reply

    texts = [f"caller {number} " * number for number in range(200)]
    assert await asyncio.gather(*(echo(text) for text in texts)) == [text.encode() for text in texts]
    assert len(set(connections)) == 1


async def test_a_cancelled_caller_leaves_the_next_one_its_own_reply(client: RespClient) -> None:
    slow = asyncio.ensure_future(
        client.execute(("EVAL", "local n = 0 for i = 1, 3000000 do n = n + i end return n", 0))
    )
    await asyncio.sleep(0.01)
    slow.cancel()
    assert await client.execute(("ECHO", "mine")) == [b"mine"]


async def test_a_connection_redis_dropped_is_replaced_on_the_next_call(client: RespClient, limits_redis: str) -> None:
    (first,) = await client.execute(("CLIENT", "ID"))
    other = RespClient(limits_redis, connect_timeout=0.5, command_timeout=1.0)
    assert await other.execute(("CLIENT", "KILL", "ID", first)) == [1]  # as a Redis restart would
    await other.aclose()
    await asyncio.sleep(0.05)  # the loop sees the connection end
    (second,) = await client.execute(("CLIENT", "ID"))
    assert second != first


async def test_an_unreachable_redis_fails_the_call_quickly() -> None:
    redis = RespClient("redis://127.0.0.1:9/0", connect_timeout=0.5, command_timeout=1.0)
    with pytest.raises(OSError):
        await redis.execute(("PING",))


class FakeRedis:
    """A server that records what it is sent and answers with ``answer(received)``."""

    def __init__(self, answer: Callable[[bytes], bytes]) -> None:
        self.received = b""
        self._answer = answer
        self.connections = 0

    async def __aenter__(self) -> str:
        self._server = await asyncio.start_server(self._serve, "127.0.0.1", 0)
        port = self._server.sockets[0].getsockname()[1]
        return f"127.0.0.1:{port}"

    async def __aexit__(self, *exc: object) -> None:
        self._server.close()

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.connections += 1
        while data := await reader.read(65536):
            self.received += data
            writer.write(self._answer(data))


async def test_a_redis_that_stops_answering_times_out_and_fails_every_call_behind_it_at_once() -> None:
    async with FakeRedis(lambda data: b"") as address:
        redis = RespClient(f"redis://{address}/0", connect_timeout=0.5, command_timeout=0.3)
        first = asyncio.ensure_future(redis.execute(("PING",)))
        await asyncio.sleep(0.2)
        second = asyncio.ensure_future(redis.execute(("PING",)))
        with pytest.raises(TimeoutError):
            await first
        # The second call is not left to wait out its own timeout on a connection known dead.
        with pytest.raises(ConnectionError):
            await asyncio.wait_for(second, 0.05)


async def test_the_url_s_credentials_and_database_are_sent_before_the_first_command() -> None:
    fake = FakeRedis(lambda data: b"+OK\r\n" * data.count(b"*"))
    async with fake as address:
        redis = RespClient(f"redis://ops:s%40cret@{address}/3", connect_timeout=0.5, command_timeout=1.0)
        assert await redis.execute(("PING",)) == ["OK"]
    assert redis_commands(fake.received) == [
        ["AUTH", "ops", "s@cret"],
        ["SELECT", "3"],
        ["PING"],
    ]


async def test_a_reply_that_is_not_resp_ends_the_call_with_a_connection_error() -> None:
    async with FakeRedis(lambda data: b"HTTP/1.1 400 Bad Request\r\n\r\n") as address:
        redis = RespClient(f"redis://{address}/0", connect_timeout=0.5, command_timeout=1.0)
        with pytest.raises(ConnectionError):
            await redis.execute(("PING",))


def redis_commands(data: bytes) -> list[list[str]]:
    lines = data.decode().split("\r\n")
    commands: list[list[str]] = []
    index = 0
    while index < len(lines) and lines[index].startswith("*"):
        count = int(lines[index][1:])
        commands.append([lines[index + 2 + 2 * argument] for argument in range(count)])
        index += 1 + 2 * count
    return commands
