"""Report selectors: groups, filters, current names, top lists, a key's requests."""

from __future__ import annotations

from datetime import date

import pytest

from paddler_protocol.token_usage import TokenUsage
from tests.factories import make_api_key, make_tenant
from tests.usage.usage_drafts import at, make_draft, store
from usage.usage_queries import UsageFilter, key_requests, usage_rows, usage_totals

pytestmark = pytest.mark.django_db

GONE_TENANT, GONE_KEY = 90001, 90002


def _usage(tenant_id: int, key_id: int, when: str, prompt: int, content: int, **fields: object) -> None:
    store(
        make_draft(
            tenant_id=tenant_id,
            api_key_id=key_id,
            started_at=at(when),
            tokens=TokenUsage(prompt_tokens=prompt, content_tokens=content),
            **fields,
        )
    )


def test_rows_by_tenant_sum_their_keys_and_models() -> None:
    _usage(GONE_TENANT, GONE_KEY, "2025-03-01 10:00", 10, 1, tenant_name="zeta")
    _usage(GONE_TENANT, GONE_KEY + 1, "2025-03-02 10:00", 20, 2, tenant_name="zeta", model="m2")
    _usage(GONE_TENANT + 5, GONE_KEY + 5, "2025-03-02 10:00", 7, 7, tenant_name="alpha")
    rows = usage_rows(UsageFilter(), "tenant")
    assert [(row.tenant, row.totals.requests, row.totals.prompt_tokens, row.totals.total_tokens) for row in rows] == [
        ("alpha", 1, 7, 14),
        ("zeta", 2, 30, 33),
    ]


def test_rows_use_current_names_and_fall_back_to_stored_ones() -> None:
    key, _ = make_api_key(tenant=make_tenant(name="Renamed Inc"), name="renamed key")
    _usage(key.tenant_id, key.pk, "2025-03-01 10:00", 1, 1, tenant_name="Old Inc", key_name="old key")
    _usage(
        GONE_TENANT,
        GONE_KEY,
        "2025-03-01 10:00",
        1,
        1,
        tenant_name="Deleted Ltd",
        key_name="gone",
        key_prefix="oar_gone",
    )
    assert [row.tenant for row in usage_rows(UsageFilter(), "tenant")] == ["Deleted Ltd", "Renamed Inc"]
    keys = usage_rows(UsageFilter(), "key")
    assert [(row.key, row.key_prefix, row.tenant) for row in keys] == [
        ("gone", "oar_gone", "Deleted Ltd"),
        ("renamed key", "oar_abc", "Renamed Inc"),
    ]


def test_rows_by_day_are_in_date_order_and_respect_the_inclusive_range() -> None:
    for when in ("2025-03-03 10:00", "2025-03-01 10:00", "2025-03-02 10:00", "2025-03-04 00:00"):
        _usage(GONE_TENANT, GONE_KEY, when, 1, 1)
    rows = usage_rows(UsageFilter(since=date(2025, 3, 2), until=date(2025, 3, 3)), "day")
    assert [row.day for row in rows] == [date(2025, 3, 2), date(2025, 3, 3)]


def test_filters_narrow_by_tenant_key_and_model() -> None:
    _usage(GONE_TENANT, GONE_KEY, "2025-03-01 10:00", 1, 1)
    _usage(GONE_TENANT, GONE_KEY, "2025-03-01 10:00", 2, 2, model="m2")
    _usage(GONE_TENANT, GONE_KEY + 1, "2025-03-01 10:00", 4, 4)
    _usage(GONE_TENANT + 1, GONE_KEY + 2, "2025-03-01 10:00", 8, 8)
    assert usage_totals(UsageFilter(tenant_id=GONE_TENANT)).prompt_tokens == 7
    assert usage_totals(UsageFilter(api_key_id=GONE_KEY)).prompt_tokens == 3
    assert usage_totals(UsageFilter(tenant_id=GONE_TENANT, model="m2")).prompt_tokens == 2


def test_top_rows_are_ordered_by_total_tokens_and_limited() -> None:
    for index, tokens in enumerate((5, 50, 20)):
        _usage(GONE_TENANT + index, GONE_KEY + index, "2025-03-01 10:00", tokens, 0, tenant_name=f"t{index}")
    top = usage_rows(UsageFilter(), "tenant", top=2)
    assert [row.tenant for row in top] == ["t1", "t2"]


def test_a_keys_requests_are_newest_first_and_page_backwards() -> None:
    for hour in range(10, 15):
        _usage(GONE_TENANT, GONE_KEY, f"2025-03-01 {hour}:00", 1, 1, request_id=f"req_h{hour}")
    _usage(GONE_TENANT, GONE_KEY + 1, "2025-03-01 16:00", 1, 1)
    first = key_requests(UsageFilter(), api_key_id=GONE_KEY, limit=2)
    assert [record.request_id for record in first] == ["req_h14", "req_h13"]
    older = key_requests(UsageFilter(), api_key_id=GONE_KEY, before_id=first[-1].pk, limit=10)
    assert [record.request_id for record in older] == ["req_h12", "req_h11", "req_h10"]
