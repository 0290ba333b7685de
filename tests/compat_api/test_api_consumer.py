from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any

from compat_api.api_consumer import _Exchange
from compat_api.sse_response import sse_response


async def test_a_stream_cancelled_while_a_chunk_is_sent_closes_the_body_it_was_given() -> None:
    body_closed = asyncio.Event()
    chunk_in_flight = asyncio.Event()

    async def body() -> AsyncIterator[bytes]:
        try:
            yield b"data: 1\n\n"
            yield b"data: 2\n\n"
        finally:
            body_closed.set()

    async def send(message: dict[str, Any]) -> None:
        # A server whose send waits (flow control): the client goes away meanwhile.
        if message.get("more_body"):
            chunk_in_flight.set()
            await asyncio.Event().wait()

    serving = asyncio.ensure_future(_Exchange(send, "req_test").send_response(sse_response(body())))
    await chunk_in_flight.wait()
    serving.cancel()
    await asyncio.gather(serving, return_exceptions=True)

    assert body_closed.is_set()


async def test_a_stream_failing_after_its_first_byte_still_ends_its_body(caplog: Any) -> None:
    """Nothing may escape to the server once the response started: Daphne would answer with a
    second start, stop reaping finished requests, and leave the client waiting forever."""

    async def body() -> AsyncIterator[bytes]:
        yield b"data: 1\n\n"
        raise UnicodeEncodeError("utf-8", "\ud83d", 0, 1, "surrogates not allowed")

    sent: list[dict[str, Any]] = []

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    await _Exchange(send, "req_test").send_response(sse_response(body()))

    assert [message["type"] for message in sent] == ["http.response.start", "http.response.body", "http.response.body"]
    assert sent[1]["body"] == b"data: 1\n\n"
    assert sent[-1] == {"type": "http.response.body", "body": b""}  # the end of the body
    assert "the stream failed after its first byte" in caplog.text
