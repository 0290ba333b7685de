"""Storing a batch: one record per request id, rollups that agree with the records."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from typing import Any

import pytest
from django.db import OperationalError
from django.db.models import QuerySet, Sum
from django.utils import timezone as dj_timezone

from accounts.models import ApiKey
from paddler_protocol.token_usage import TokenUsage
from tests.factories import make_api_key
from tests.usage.usage_drafts import at, make_draft, store
from usage.models import UsageRecord, UsageRollup
from usage.usage_record_store import store_usage_batch

pytestmark = pytest.mark.django_db

FULL_USAGE = TokenUsage(
    prompt_tokens=21,
    cached_prompt_tokens=3,
    input_image_tokens=7,
    input_audio_tokens=0,
    content_tokens=11,
    reasoning_tokens=57,
    tool_call_tokens=2,
    undeterminable_tokens=1,
)


def test_a_record_keeps_every_counter_of_the_draft_and_their_completion_sum() -> None:
    store(make_draft(request_id="req_a", tokens=FULL_USAGE))
    record = UsageRecord.objects.get(request_id="req_a")
    assert (record.prompt_tokens, record.cached_prompt_tokens, record.input_image_tokens) == (21, 3, 7)
    assert (record.content_tokens, record.reasoning_tokens, record.tool_call_tokens) == (11, 57, 2)
    assert record.undeterminable_tokens == 1
    assert record.completion_tokens == 71
    assert record.total_tokens == 92


def test_a_record_keeps_every_value_of_the_draft_exactly() -> None:
    # Times to the microsecond whatever their offset, the day, flags, a missing time to first
    # token, and text with quotes, backslashes and non-ASCII characters.
    started = datetime(2026, 12, 6, 23, 59, 58, 123456, tzinfo=timezone(timedelta(hours=-5)))
    draft = make_draft(
        request_id="req_exact",
        started_at=started,
        time_to_first_token_ms=None,
        streamed=True,
        model='mödel "x" \\ y',
        error_class="",
        generated_by="agent-ß",
    )
    store(draft)
    record = UsageRecord.objects.get(request_id="req_exact")
    assert record.started_at == started
    assert record.day == dj_timezone.localdate(started)
    assert (record.time_to_first_token_ms, record.streamed) == (None, True)
    assert (record.model, record.generated_by) == ('mödel "x" \\ y', "agent-ß")
    assert (record.prompt_tokens_known, record.prompt_tokens_estimated) == (draft.prompt_tokens_known, False)


def test_storing_the_same_batch_twice_counts_it_once() -> None:
    drafts = [make_draft(), make_draft()]
    first = store_usage_batch(drafts)
    second = store_usage_batch(drafts)
    assert (first.inserted, second.inserted, second.duplicates) == (2, 0, 2)
    assert UsageRecord.objects.count() == 2
    assert UsageRollup.objects.get().requests == 2


def test_a_batch_repeating_a_request_id_stores_it_once() -> None:
    draft = make_draft()
    store_usage_batch([draft, draft])
    assert UsageRecord.objects.filter(request_id=draft.request_id).count() == 1
    assert UsageRollup.objects.get().requests == 1


def test_rollups_add_batches_per_day_tenant_key_and_model() -> None:
    store(make_draft(started_at=at("2025-03-01 10:00")), make_draft(started_at=at("2025-03-01 23:59")))
    store(make_draft(started_at=at("2025-03-01 12:00"), model="other"))
    store(make_draft(started_at=at("2025-03-02 00:01"), api_key_id=2))
    cells = {(str(cell.day), cell.api_key_id, cell.model): cell.requests for cell in UsageRollup.objects.all()}
    assert cells == {
        ("2025-03-01", 1, "default"): 2,
        ("2025-03-01", 1, "other"): 1,
        ("2025-03-02", 2, "default"): 1,
    }


def test_rollup_totals_equal_the_records_totals() -> None:
    store(*(make_draft(tokens=FULL_USAGE) for _ in range(3)))
    store(
        make_draft(
            outcome="client_disconnected",
            usage_source="counted",
            prompt_tokens_known=False,
            tokens=TokenUsage(content_tokens=4),
        )
    )
    names = ["prompt_tokens", "cached_prompt_tokens", "reasoning_tokens", "completion_tokens"]
    records = UsageRecord.objects.aggregate(**{name: Sum(name) for name in names})
    rollups = UsageRollup.objects.aggregate(**{name: Sum(name) for name in names})
    assert (
        records
        == rollups
        == {
            "prompt_tokens": 63,
            "cached_prompt_tokens": 9,
            "reasoning_tokens": 171,
            "completion_tokens": 217,
        }
    )
    cell = UsageRollup.objects.get()
    assert (cell.requests, cell.prompt_unknown_requests) == (4, 1)


def test_unknown_prompt_tokens_are_stored_as_zero_and_flagged() -> None:
    store(
        make_draft(
            request_id="req_gone",
            prompt_tokens_known=False,
            usage_source="counted",
            tokens=TokenUsage(prompt_tokens=99, content_tokens=3),
        )
    )
    record = UsageRecord.objects.get(request_id="req_gone")
    assert (record.prompt_tokens, record.prompt_tokens_known, record.completion_tokens) == (0, False, 3)


def test_failed_and_rejected_requests_count_as_errors_in_the_rollup() -> None:
    store(
        make_draft(),
        make_draft(outcome="failed", http_status=503),
        make_draft(outcome="rejected", http_status=400, tokens=TokenUsage()),
    )
    cell = UsageRollup.objects.get()
    assert (cell.requests, cell.error_requests) == (3, 2)


def test_missing_names_are_looked_up_from_the_key_and_tenant() -> None:
    key, _ = make_api_key(name="nightly")
    store(
        make_draft(
            request_id="req_n", tenant_id=key.tenant_id, api_key_id=key.pk, tenant_name="", key_name="", key_prefix=""
        )
    )
    record = UsageRecord.objects.get(request_id="req_n")
    assert (record.tenant_name, record.key_name, record.key_prefix) == (key.tenant.name, "nightly", key.prefix)
    assert UsageRollup.objects.get().key_name == "nightly"


def test_a_batch_bumps_last_used_at_of_its_keys_to_their_latest_request() -> None:
    key, _ = make_api_key()
    store(
        make_draft(api_key_id=key.pk, started_at=at("2025-03-01 10:00"), duration_ms=1000),
        make_draft(api_key_id=key.pk, started_at=at("2025-03-01 11:00"), duration_ms=2000),
    )
    key.refresh_from_db()
    assert key.last_used_at == at("2025-03-01 11:00:02")


def test_last_used_at_never_moves_backwards() -> None:
    key, _ = make_api_key()
    store(make_draft(api_key_id=key.pk, started_at=at("2025-03-02 10:00"), duration_ms=0))
    store(make_draft(api_key_id=key.pk, started_at=at("2025-03-01 10:00"), duration_ms=0))
    key.refresh_from_db()
    assert key.last_used_at == at("2025-03-02 10:00")


def test_a_batch_retried_after_its_key_touch_failed_still_touches_the_key(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # The records commit before the key is touched; the writer retries the whole batch when
    # the touch fails, and that retry inserts nothing new.
    key, _ = make_api_key()
    draft = make_draft(api_key_id=key.pk, started_at=at("2025-03-01 10:00"), duration_ms=0)
    real_update = QuerySet.update
    failures = iter([OperationalError("database is locked")])

    def update_failing_once(queryset: QuerySet[Any], **values: Any) -> int:
        if queryset.model is ApiKey and (error := next(failures, None)) is not None:
            raise error
        return real_update(queryset, **values)

    monkeypatch.setattr(QuerySet, "update", update_failing_once)
    with pytest.raises(OperationalError):
        store(draft)
    store(draft)
    key.refresh_from_db()
    assert key.last_used_at == at("2025-03-01 10:00")
    assert UsageRollup.objects.get().requests == 1


def test_usage_survives_deleting_its_key_and_tenant() -> None:
    key, _ = make_api_key()
    store(make_draft(request_id="req_keep", tenant_id=key.tenant_id, api_key_id=key.pk))
    key.tenant.delete()
    assert UsageRecord.objects.filter(request_id="req_keep").exists()
    assert UsageRollup.objects.filter(api_key_id=key.pk).exists()


def test_values_longer_than_their_columns_are_cut_so_the_batch_still_stores() -> None:
    # A rejected request records the model name the client sent, of any length; PostgreSQL
    # refuses an over-long value, and the writer would retry that batch forever.
    long_model = "m" * 300
    store(make_draft(request_id="req_long", model=long_model, generated_by="g" * 300, paddler_request_id="p" * 100))
    record = UsageRecord.objects.get(request_id="req_long")
    assert record.model == long_model[:200]
    assert (len(record.generated_by), len(record.paddler_request_id)) == (200, 64)
    assert UsageRollup.objects.get().model == long_model[:200]
