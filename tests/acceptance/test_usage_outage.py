"""While the usage tables cannot be written, clients are served at full speed and their records
wait; once the database is back every record lands, once."""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import openai
from django.db import connection, transaction

from tests.fake_paddler import FakePaddlerServer
from tests.fake_paddler_scripts import plain_content
from tests.usage.record_polling import wait_for_records
from usage.models import UsageRecord

USER = [{"role": "user", "content": "Hi"}]
REQUESTS = 3


@contextmanager
def usage_writes_blocked() -> Iterator[None]:
    """Hold the lock a usage insert needs (the whole database on SQLite, the table on PostgreSQL)."""
    with transaction.atomic():
        if connection.vendor == "postgresql":
            with connection.cursor() as cursor:
                cursor.execute("LOCK TABLE usage_usagerecord IN EXCLUSIVE MODE")
        else:
            # transaction_mode IMMEDIATE: the atomic block already holds SQLite's write lock.
            UsageRecord.objects.filter(pk=-1).update(duration_ms=0)
        yield


def test_blocked_usage_writes_neither_slow_clients_down_nor_lose_records(
    openai_client: openai.OpenAI, fake_paddler: FakePaddlerServer, api_key: tuple[Any, str]
) -> None:
    key = api_key[0]
    fake_paddler.script(*(plain_content("a", "b") for _ in range(REQUESTS)))
    with usage_writes_blocked():
        started = time.monotonic()
        for _ in range(REQUESTS):
            completion = openai_client.chat.completions.create(model="default", messages=USER)
            assert completion.choices[0].message.content == "ab"
        served_in = time.monotonic() - started
        # The outage lasts a second: several flush intervals, so the writer has tried and waits.
        time.sleep(1.0)
        assert not UsageRecord.objects.filter(api_key_id=key.pk).exists()
    assert served_in < 2.0
    records = wait_for_records(api_key_ids=[key.pk], count=REQUESTS, timeout=15)
    assert {record.outcome for record in records} == {"completed"}
