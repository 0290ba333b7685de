"""Usage records are committed asynchronously: tests wait for them with a bounded poll."""

from __future__ import annotations

import asyncio
import time

from django.db import connection

from usage.models import UsageRecord

POLL_SECONDS = 0.05


def wait_for_records(
    *, api_key_ids: list[int] | tuple[int, ...], count: int, timeout: float = 10.0
) -> list[UsageRecord]:
    """The keys' records once there are ``count`` of them (oldest first); fails after ``timeout``."""
    deadline = time.monotonic() + timeout
    while True:
        records = list(UsageRecord.objects.filter(api_key_id__in=api_key_ids).order_by("started_at", "pk"))
        if len(records) >= count or time.monotonic() >= deadline:
            break
        time.sleep(POLL_SECONDS)
    assert len(records) == count, f"expected {count} usage records, found {len(records)}"
    return records


def wait_for_record(*, api_key_id: int, timeout: float = 10.0) -> UsageRecord:
    """The key's one record."""
    [record] = wait_for_records(api_key_ids=[api_key_id], count=1, timeout=timeout)
    return record


def wait_for_request_record(request_id: str, *, timeout: float = 10.0) -> UsageRecord:
    """The record of the request whose ``x-request-id`` is ``request_id``."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        record = UsageRecord.objects.filter(request_id=request_id).first()
        if record is not None:
            return record
        time.sleep(POLL_SECONDS)
    raise AssertionError(f"no usage record for {request_id}")


async def wait_for_records_async(
    *, api_key_ids: list[int] | tuple[int, ...], count: int, timeout: float = 10.0
) -> list[UsageRecord]:
    """``wait_for_records`` for async tests: polls in a worker thread and closes that thread's
    connection (else a pooled thread keeps it open and PostgreSQL cannot drop the test database)."""

    def poll() -> list[UsageRecord]:
        try:
            return wait_for_records(api_key_ids=api_key_ids, count=count, timeout=timeout)
        finally:
            connection.close()

    return await asyncio.to_thread(poll)
