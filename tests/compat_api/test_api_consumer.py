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
