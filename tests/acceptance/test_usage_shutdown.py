"""A graceful shutdown (SIGTERM to a real Daphne process) loses no usage record: not of the
streams it cuts, nor of the requests that finished just before it."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

import openai

from accounts.models import ApiKey
from tests.fake_paddler import FakePaddlerServer
from tests.fake_paddler_scripts import plain_content, slow_stream
from tests.live_server import LiveServer
from tests.usage.record_polling import wait_for_records_async

USER = [{"role": "user", "content": "Hi"}]
OPEN_STREAMS = 6
QUICK_REQUESTS = 4


async def _read_until_cut(client: openai.AsyncOpenAI, started: asyncio.Queue[None]) -> int:
    """Stream until the server goes away; the number of content chunks received."""
    received = 0
    try:
        stream = await client.chat.completions.create(model="default", messages=USER, stream=True)
        async for chunk in stream:
            if chunk.choices and chunk.choices[0].delta.content:
                received += 1
                if received == 2:
                    started.put_nowait(None)
    except (openai.APIError, openai.APIConnectionError):
        pass
    return received


async def test_sigterm_with_open_streams_commits_every_record(
    live_server_factory: Callable[..., LiveServer], fake_paddler: FakePaddlerServer, api_key: tuple[Any, str]
) -> None:
    key: ApiKey = api_key[0]
    server = live_server_factory()
    client = openai.AsyncOpenAI(base_url=server.base_url, api_key=api_key[1], max_retries=0, timeout=30)
    fake_paddler.script(*(slow_stream(400, 0.05) for _ in range(OPEN_STREAMS)))
    started: asyncio.Queue[None] = asyncio.Queue()
    streams = [asyncio.create_task(_read_until_cut(client, started)) for _ in range(OPEN_STREAMS)]
    for _ in range(OPEN_STREAMS):
        await asyncio.wait_for(started.get(), timeout=10)
    # Requests that complete right before the signal: their records may still sit in the
    # writer's batch window when the process is told to stop.
    fake_paddler.script(*(plain_content("a", "b") for _ in range(QUICK_REQUESTS)))
    for _ in range(QUICK_REQUESTS):
        await client.chat.completions.create(model="default", messages=USER)

    exit_code = await asyncio.to_thread(server.stop)
    received = await asyncio.gather(*streams)
    await client.close()

    assert exit_code == 0, server.log_tail()
    records = await wait_for_records_async(api_key_ids=[key.pk], count=OPEN_STREAMS + QUICK_REQUESTS, timeout=5)
    completed = [record for record in records if record.outcome == "completed"]
    cut = [record for record in records if record.outcome != "completed"]
    assert len(completed) == QUICK_REQUESTS
    assert len(cut) == OPEN_STREAMS
    # Written by the meter when Daphne cancelled the request, committed by the writer's exit hook.
    assert {(record.outcome, record.error_class, record.usage_source) for record in cut} == {
        ("failed", "ServerShutdown", "counted")
    }
    assert not any(record.prompt_tokens_known for record in cut)
    # Each cut stream is billed at least what its client received (the server may have relayed
    # a token or two more that was still in flight when the connection closed).
    billed = sorted(record.content_tokens for record in cut)
    assert all(bill >= got for bill, got in zip(billed, sorted(received), strict=True)), (billed, received)
    assert all(record.content_tokens >= 2 for record in cut)
