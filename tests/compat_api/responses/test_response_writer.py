"""The response writer: rows committed off the request path, awaited by the stream, and one
refused row never costs the others theirs."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from compat_api.models import StoredResponse
from compat_api.responses.response_store import get_response
from compat_api.responses.response_writer import ResponseWriter
from tests.factories import make_tenant

pytestmark = pytest.mark.django_db(transaction=True)

ITEMS = [{"id": "msg_in", "type": "message", "role": "user", "content": []}]


def response(response_id: str) -> dict[str, Any]:
    return {"id": response_id, "model": "default", "status": "completed", "output": []}


def submit_on_a_loop(writer: ResponseWriter, tenant_id: int, *response_ids: str) -> None:
    """Submit as the request path does (on an event loop) and await every row's future."""

    async def submit_all() -> None:
        futures = [
            writer.submit(tenant_id=tenant_id, response=response(rid), input_items=ITEMS) for rid in response_ids
        ]
        assert all(future is not None for future in futures)
        await asyncio.wait_for(asyncio.gather(*futures), 10)  # type: ignore[arg-type]

    asyncio.run(submit_all())


def test_the_future_is_done_once_the_response_is_readable() -> None:
    tenant = make_tenant()
    writer = ResponseWriter()
    submit_on_a_loop(writer, tenant.pk, "resp_w1")
    assert get_response(tenant_id=tenant.pk, response_id="resp_w1")["id"] == "resp_w1"
    writer.stop()


def test_a_refused_row_is_dropped_alone() -> None:
    tenant = make_tenant()
    writer = ResponseWriter()
    submit_on_a_loop(writer, tenant.pk, "resp_dup", "resp_dup", "resp_ok")
    assert sorted(StoredResponse.objects.values_list("id", flat=True)) == ["resp_dup", "resp_ok"]
    writer.stop()


def test_a_reader_in_the_process_waits_for_a_queued_response() -> None:
    tenant = make_tenant()
    writer = ResponseWriter()
    writer.submit(tenant_id=tenant.pk, response=response("resp_sync"), input_items=ITEMS)
    writer.wait_until_stored("resp_sync")
    assert StoredResponse.objects.filter(id="resp_sync").exists()
    writer.stop()
