"""Stored responses: one tenant's, within retention, paged like OpenAI's lists."""

from __future__ import annotations

from datetime import timedelta
from io import StringIO
from typing import Any

import pytest
from django.core.management import CommandError, call_command
from django.utils import timezone

from compat_api.errors import InvalidRequest, NotFoundError
from compat_api.models import StoredResponse
from compat_api.responses.response_store import (
    ResponseToStore,
    delete_response,
    get_response,
    list_input_items,
    previous_conversation,
    purge_responses,
    save_response,
    save_responses,
)
from foundation.compact_json import compact_json
from tests.factories import make_tenant

pytestmark = pytest.mark.django_db

ITEMS = [{"id": f"msg_{n}", "type": "message", "role": "user", "content": []} for n in range(5)]
OUTPUT = [{"id": "msg_out", "type": "message", "role": "assistant", "status": "completed", "content": []}]


def response(response_id: str = "resp_1", **fields: Any) -> dict[str, Any]:
    return {"id": response_id, "model": "default", "status": "completed", "output": OUTPUT, **fields}


def stored(tenant_id: int, response_id: str = "resp_1", *, age_days: float = 0) -> None:
    save_response(tenant_id=tenant_id, response=response(response_id), input_items=ITEMS)
    if age_days:
        created = timezone.now() - timedelta(days=age_days)
        StoredResponse.objects.filter(id=response_id).update(created_at=created)


def test_a_saved_response_reads_back_exactly():
    tenant = make_tenant()
    stored(tenant.id)

    assert get_response(tenant_id=tenant.id, response_id="resp_1") == response()


def test_a_batch_stores_each_response_as_streamed_with_its_own_input():
    tenant = make_tenant()
    streamed = response("resp_a", instructions="Réponds « vite » \u2028", metadata={"k": ["v", 1.5, None]})
    items_b = [{"id": "msg_b", "type": "message", "role": "user", "content": [{"type": "input_text", "text": "ü"}]}]

    save_responses(
        [
            ResponseToStore(tenant.id, streamed, ITEMS, response_json=compact_json(streamed)),
            ResponseToStore(tenant.id, response("resp_b"), items_b),
        ]
    )

    assert get_response(tenant_id=tenant.id, response_id="resp_a") == streamed
    assert get_response(tenant_id=tenant.id, response_id="resp_b") == response("resp_b")
    assert previous_conversation(tenant_id=tenant.id, response_id="resp_b") == (*items_b, *OUTPUT)
    assert StoredResponse.objects.get(id="resp_a").status == "completed"


def test_another_tenants_response_is_not_found():
    owner, other = make_tenant(), make_tenant()
    stored(owner.id)

    with pytest.raises(NotFoundError):
        get_response(tenant_id=other.id, response_id="resp_1")
    with pytest.raises(NotFoundError):
        delete_response(tenant_id=other.id, response_id="resp_1")
    with pytest.raises(NotFoundError):
        list_input_items(tenant_id=other.id, response_id="resp_1")
    assert StoredResponse.objects.filter(id="resp_1").exists()


def test_a_response_past_retention_is_gone_before_any_purge(settings):
    settings.OARLOCK_RESPONSES_RETENTION_DAYS = 30
    tenant = make_tenant()
    stored(tenant.id, "resp_old", age_days=31)
    stored(tenant.id, "resp_new", age_days=29)

    with pytest.raises(NotFoundError):
        get_response(tenant_id=tenant.id, response_id="resp_old")
    assert get_response(tenant_id=tenant.id, response_id="resp_new")["id"] == "resp_new"


def test_a_deleted_response_is_not_found_afterwards():
    tenant = make_tenant()
    stored(tenant.id)

    delete_response(tenant_id=tenant.id, response_id="resp_1")

    with pytest.raises(NotFoundError):
        get_response(tenant_id=tenant.id, response_id="resp_1")


@pytest.mark.parametrize(
    ("limit", "order", "after", "ids", "has_more"),
    [
        (20, "desc", None, ["msg_4", "msg_3", "msg_2", "msg_1", "msg_0"], False),
        (20, "asc", None, ["msg_0", "msg_1", "msg_2", "msg_3", "msg_4"], False),
        (2, "asc", None, ["msg_0", "msg_1"], True),
        (2, "asc", "msg_1", ["msg_2", "msg_3"], True),
        (2, "asc", "msg_3", ["msg_4"], False),
        (2, "desc", "msg_3", ["msg_2", "msg_1"], True),
        (5, "asc", None, ["msg_0", "msg_1", "msg_2", "msg_3", "msg_4"], False),
        (2, "asc", "msg_unknown", [], False),
    ],
)
def test_input_items_page_like_openai_lists(limit, order, after, ids, has_more):
    tenant = make_tenant()
    stored(tenant.id)

    page = list_input_items(tenant_id=tenant.id, response_id="resp_1", limit=limit, order=order, after=after)

    assert [item["id"] for item in page.items] == ids
    assert page.has_more is has_more


def test_the_previous_conversation_is_the_input_then_the_output():
    tenant = make_tenant()
    stored(tenant.id)

    assert previous_conversation(tenant_id=tenant.id, response_id="resp_1") == (*ITEMS, *OUTPUT)


def test_an_unknown_previous_response_is_previous_response_not_found():
    tenant = make_tenant()

    with pytest.raises(InvalidRequest) as caught:
        previous_conversation(tenant_id=tenant.id, response_id="resp_nope")

    assert caught.value.code == "previous_response_not_found"
    assert caught.value.param == "previous_response_id"
    assert caught.value.message == "Previous response with id 'resp_nope' not found."


def test_purge_deletes_only_what_is_older_than_asked():
    tenant = make_tenant()
    stored(tenant.id, "resp_old", age_days=10)
    stored(tenant.id, "resp_new", age_days=1)

    assert purge_responses(older_than=timedelta(days=5)) == 1
    assert list(StoredResponse.objects.values_list("id", flat=True)) == ["resp_new"]


def test_the_purge_command_uses_the_retention_setting(settings):
    settings.OARLOCK_RESPONSES_RETENTION_DAYS = 30
    tenant = make_tenant()
    stored(tenant.id, "resp_old", age_days=31)
    stored(tenant.id, "resp_new", age_days=29)
    out = StringIO()

    call_command("purge_responses", stdout=out)

    assert list(StoredResponse.objects.values_list("id", flat=True)) == ["resp_new"]
    assert out.getvalue().strip() == "Deleted 1 stored responses older than 30 days."


def test_the_purge_command_override_wins(settings):
    settings.OARLOCK_RESPONSES_RETENTION_DAYS = 30
    tenant = make_tenant()
    stored(tenant.id, "resp_a", age_days=3)
    stored(tenant.id, "resp_b", age_days=1)

    call_command("purge_responses", "--older-than-days", "2", stdout=StringIO())

    assert list(StoredResponse.objects.values_list("id", flat=True)) == ["resp_b"]


def test_the_purge_command_refuses_to_guess_when_retention_is_off(settings):
    settings.OARLOCK_RESPONSES_RETENTION_DAYS = 0

    with pytest.raises(CommandError):
        call_command("purge_responses", stdout=StringIO())
