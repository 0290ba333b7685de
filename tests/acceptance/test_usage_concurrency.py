"""A burst of simultaneous requests, served by two server processes writing usage to the same
PostgreSQL database at once, is recorded exactly: one record each, totals to the token."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

import openai
import pytest
from django.conf import settings
from django.db.models import Count, Sum

from tests.factories import make_api_key, make_tenant
from tests.fake_paddler import FakePaddlerServer
from tests.fake_paddler_reply import Reply, Sleep
from tests.fake_paddler_scripts import reasoning_then_content, usage_for
from tests.live_server import LiveServer
from tests.usage.record_polling import wait_for_records
from usage.models import UsageRecord, UsageRollup

pytestmark = [
    pytest.mark.postgres,
    pytest.mark.skipif(
        not settings.DATABASES["default"]["ENGINE"].endswith("postgresql"),
        reason="the concurrency burst is meaningful on PostgreSQL only: run with DATABASE_URL=postgres://…",
    ),
]

REQUESTS = 96
SERVERS = 2
KEYS = 3
USER = [{"role": "user", "content": "Hi"}]
SUMMED = ("prompt_tokens", "content_tokens", "reasoning_tokens", "completion_tokens")


def _replies() -> list[Reply]:
    """Different usage per reply; each waits a little first so that the whole burst is in flight."""
    replies = []
    for index in range(REQUESTS):
        reply = reasoning_then_content(
            [f"r{index}" for index in range(index % 4)],
            [f"c{index}" for index in range(1 + index % 9)],
            prompt_tokens=10 + index % 13,
        )
        replies.append(Reply([Sleep(0.3), *reply.steps]))
    return replies


async def _call(client: openai.AsyncOpenAI, index: int) -> None:
    if index % 2:
        stream = await client.chat.completions.create(model="default", messages=USER, stream=True)
        async for _ in stream:
            pass
    else:
        await client.responses.create(model="default", input="Hi", store=False)


def test_a_concurrent_burst_is_recorded_exactly_once_with_exact_totals(
    live_server_factory: Callable[..., LiveServer], fake_paddler: FakePaddlerServer, transactional_db: None
) -> None:
    tenant = make_tenant(name="burst")
    keys = [make_api_key(tenant=tenant, name=f"burst-{index}") for index in range(KEYS)]
    servers = [live_server_factory() for _ in range(SERVERS)]
    replies = _replies()
    fake_paddler.script(*replies)

    async def burst() -> None:
        clients = [
            openai.AsyncOpenAI(base_url=server.base_url, api_key=secret, max_retries=0, timeout=60)
            for server in servers
            for _, secret in keys
        ]
        try:
            await asyncio.gather(*(_call(clients[index % len(clients)], index) for index in range(REQUESTS)))
        finally:
            await asyncio.gather(*(client.close() for client in clients))

    asyncio.run(burst())

    key_ids = [key.pk for key, _ in keys]
    records = wait_for_records(api_key_ids=key_ids, count=REQUESTS, timeout=15)
    expected: dict[str, Any] = {name: 0 for name in SUMMED}
    for reply in replies:
        usage = usage_for(reply.steps, prompt_tokens=reply.steps[-1].usage.prompt_tokens)  # type: ignore[union-attr]
        for name in SUMMED:
            expected[name] += getattr(usage, name)
    assert len({record.request_id for record in records}) == REQUESTS
    assert {record.outcome for record in records} == {"completed"}
    from_records = UsageRecord.objects.filter(api_key_id__in=key_ids).aggregate(**{name: Sum(name) for name in SUMMED})
    from_rollups = UsageRollup.objects.filter(api_key_id__in=key_ids).aggregate(
        requests=Sum("requests"), cells=Count("pk"), **{name: Sum(name) for name in SUMMED}
    )
    assert from_records == expected
    assert from_rollups == {**expected, "requests": REQUESTS, "cells": KEYS}
