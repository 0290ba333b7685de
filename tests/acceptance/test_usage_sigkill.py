"""A worker killed with SIGKILL while streams are open loses no record: the next start of the
worker writes each open request as ``interrupted`` — exactly once — with the tokens relayed up
to its last checkpoint and the prompt estimated at admission, and settles its budget to it."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from typing import Any

import openai
import redis
from asgiref.sync import sync_to_async
from django.utils import timezone

from accounts.redis_limit_store import DEFAULT_PREFIX, RedisLimitStore
from accounts.token_budget import budget_window
from tests.factories import make_api_key
from tests.fake_paddler import FakePaddlerServer
from tests.fake_paddler_scripts import slow_stream
from tests.limit_redis import limits_redis  # noqa: F401  (fixture)
from tests.live_server import LiveServer
from tests.usage.record_polling import wait_for_records_async
from usage.models import UsageRecord

CHAT_STREAMS = 3
RESPONSES_STREAMS = 2
CHECKPOINT_SECONDS = 0.2
TOKEN_DELAY = 0.05


async def _chat(client: openai.AsyncOpenAI, log: dict[str, Any]) -> None:
    stream = await client.chat.completions.create(
        model="default", messages=[{"role": "user", "content": "Tell me a long story"}], stream=True
    )
    log["id"] = stream.response.headers["x-request-id"]
    async for chunk in stream:
        if chunk.choices and chunk.choices[0].delta.content:
            log["received"] += 1


async def _responses(client: openai.AsyncOpenAI, log: dict[str, Any]) -> None:
    stream = await client.responses.create(model="default", input="Tell me a long story", stream=True)
    log["id"] = stream.response.headers["x-request-id"]
    async for event in stream:
        if event.type == "response.output_text.delta":
            log["received"] += 1


async def _until_cut(run: Callable[..., Any], client: openai.AsyncOpenAI, log: dict[str, Any]) -> None:
    try:
        await run(client, log)
    except (openai.APIError, openai.APIConnectionError):
        log["cut"] = True


async def test_sigkill_with_open_streams_leaves_records_written_once_at_the_next_start(
    live_server_factory: Callable[..., LiveServer],
    fake_paddler: FakePaddlerServer,
    limits_redis: str,
    transactional_db: None,
) -> None:
    key, secret = await sync_to_async(make_api_key)(token_budget=1_000_000, budget_period="day", max_concurrent=20)
    server = live_server_factory(
        {
            "REDIS_URL": limits_redis,
            "OARLOCK_USAGE_CHECKPOINT_SECONDS": str(CHECKPOINT_SECONDS),
        }
    )
    total = CHAT_STREAMS + RESPONSES_STREAMS
    fake_paddler.script(*(slow_stream(2000, TOKEN_DELAY) for _ in range(total)))
    client = openai.AsyncOpenAI(base_url=server.base_url, api_key=secret, max_retries=0, timeout=30)
    logs = [{"received": 0, "cut": False} for _ in range(total)]
    runs = [_chat] * CHAT_STREAMS + [_responses] * RESPONSES_STREAMS
    tasks = [asyncio.create_task(_until_cut(run, client, log)) for run, log in zip(runs, logs, strict=True)]
    deadline = time.monotonic() + 15
    while min(log["received"] for log in logs) < 10 and time.monotonic() < deadline:  # noqa: ASYNC110  (counters the stream tasks bump)
        await asyncio.sleep(0.05)
    await asyncio.sleep(3 * CHECKPOINT_SECONDS)

    assert await asyncio.to_thread(server.kill) == -9
    await asyncio.wait_for(asyncio.gather(*tasks), timeout=10)
    await client.close()
    assert all(log["cut"] for log in logs)
    assert not await sync_to_async(_records_of)(key.pk)

    await asyncio.to_thread(server.start)
    records = await wait_for_records_async(api_key_ids=[key.pk], count=total, timeout=10)
    by_id = {record.request_id: record for record in records}
    assert set(by_id) == {log["id"] for log in logs}
    for log in logs:
        record = by_id[log["id"]]
        assert (record.outcome, record.usage_source, record.prompt_tokens_known) == ("interrupted", "counted", False)
        assert record.prompt_tokens_estimated and record.prompt_tokens >= 1
        # Relayed up to the last checkpoint: at most a checkpoint's worth (plus scheduling
        # slack) below what the client saw, never more than it was sent.
        assert log["received"] - 3 * CHECKPOINT_SECONDS / TOKEN_DELAY <= record.content_tokens
        assert record.content_tokens <= log["received"] + 2
    assert {record.endpoint for record in records} == {"chat.completions", "responses"}

    # The budget was settled to the records and no request slot is left taken.
    assert await _budget_used(limits_redis, key) == sum(record.total_tokens for record in records)
    assert await _leases_left(limits_redis, key) == 0

    # Another restart (and another worker's start) writes nothing twice.
    await asyncio.to_thread(server.stop)
    await asyncio.to_thread(server.start)
    await asyncio.sleep(1.0)
    assert len(await sync_to_async(_records_of)(key.pk)) == total


def _records_of(key_id: int) -> list[UsageRecord]:
    return list(UsageRecord.objects.filter(api_key_id=key_id))


async def _budget_used(url: str, key: Any) -> int:
    label = budget_window("day", timezone.now(), timezone.get_default_timezone()).label
    store = RedisLimitStore(url, prefix=DEFAULT_PREFIX)
    try:
        return await store.budget_used(tenant_id=key.tenant_id, scope="key", scope_id=key.pk, label=label)
    finally:
        await store.aclose()


async def _leases_left(url: str, key: Any) -> int:
    client = redis.Redis.from_url(url)
    try:
        return sum(client.zcard(name) for name in client.scan_iter(f"{DEFAULT_PREFIX}:*leases*"))
    finally:
        client.close()


async def test_sigterm_with_open_streams_leaves_no_lease_and_a_budget_equal_to_the_records(
    live_server_factory: Callable[..., LiveServer],
    fake_paddler: FakePaddlerServer,
    limits_redis: str,
    transactional_db: None,
) -> None:
    # Daphne stops its loop while the cancelled requests' releases still await Redis: those
    # are settled at exit, else the slots stay taken until the lease ends (15 minutes).
    key, secret = await sync_to_async(make_api_key)(token_budget=1_000_000, budget_period="day", max_concurrent=20)
    server = live_server_factory({"REDIS_URL": limits_redis})
    total = CHAT_STREAMS + RESPONSES_STREAMS
    fake_paddler.script(*(slow_stream(2000, TOKEN_DELAY) for _ in range(total)))
    client = openai.AsyncOpenAI(base_url=server.base_url, api_key=secret, max_retries=0, timeout=30)
    logs = [{"received": 0, "cut": False} for _ in range(total)]
    runs = [_chat] * CHAT_STREAMS + [_responses] * RESPONSES_STREAMS
    tasks = [asyncio.create_task(_until_cut(run, client, log)) for run, log in zip(runs, logs, strict=True)]
    deadline = time.monotonic() + 15
    while min(log["received"] for log in logs) < 5 and time.monotonic() < deadline:  # noqa: ASYNC110  (counters the stream tasks bump)
        await asyncio.sleep(0.05)

    assert await asyncio.to_thread(server.stop) == 0
    await asyncio.wait_for(asyncio.gather(*tasks), timeout=10)
    await client.close()
    records = await wait_for_records_async(api_key_ids=[key.pk], count=total, timeout=10)
    assert {record.error_class for record in records} == {"ServerShutdown"}
    assert all(record.prompt_tokens_estimated for record in records)
    assert await _leases_left(limits_redis, key) == 0
    assert await _budget_used(limits_redis, key) == sum(record.total_tokens for record in records)
