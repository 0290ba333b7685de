"""Pruning deletes old raw records and leaves every rollup total as it was."""

from __future__ import annotations

import io
from datetime import datetime, timedelta

import pytest
from django.core.management import CommandError, call_command
from django.db.models import Sum
from django.utils import timezone

from tests.usage.usage_drafts import make_draft, store
from usage.models import UsageRecord, UsageRollup
from usage.usage_retention import prune_usage_records

pytestmark = pytest.mark.django_db


def _days_ago(days: int) -> datetime:
    return timezone.now() - timedelta(days=days)


def _rollup_totals() -> dict[str, int]:
    return UsageRollup.objects.aggregate(
        requests=Sum("requests"), prompt=Sum("prompt_tokens"), completion=Sum("completion_tokens")
    )


def test_pruning_deletes_records_older_than_the_cutoff_and_keeps_newer_ones() -> None:
    store(
        make_draft(request_id="req_old", started_at=_days_ago(40)),
        make_draft(request_id="req_edge", started_at=_days_ago(30)),
        make_draft(request_id="req_new", started_at=_days_ago(1)),
    )
    deleted = prune_usage_records(older_than_days=30)
    assert deleted == 1
    assert set(UsageRecord.objects.values_list("request_id", flat=True)) == {"req_edge", "req_new"}


def test_pruning_keeps_the_rollup_totals() -> None:
    store(*(make_draft(started_at=_days_ago(days)) for days in (100, 95, 3, 0)))
    before = _rollup_totals()
    prune_usage_records(older_than_days=90)
    assert UsageRecord.objects.count() == 2
    assert _rollup_totals() == before == {"requests": 4, "prompt": 40, "completion": 20}


def test_the_prune_command_defaults_to_the_retention_setting(settings: object) -> None:
    settings.OARLOCK_USAGE_RETENTION_DAYS = 10  # type: ignore[attr-defined]
    store(make_draft(started_at=_days_ago(11)), make_draft(started_at=_days_ago(9)))
    out = io.StringIO()
    call_command("prune_usage", stdout=out)
    cutoff = timezone.localdate() - timedelta(days=10)
    assert out.getvalue().strip() == f"Deleted 1 usage records from before {cutoff.isoformat()}."
    assert UsageRecord.objects.count() == 1


def test_the_prune_command_takes_older_than_days() -> None:
    store(make_draft(started_at=_days_ago(5)), make_draft(started_at=_days_ago(2)))
    call_command("prune_usage", "--older-than-days", "3", stdout=io.StringIO())
    assert UsageRecord.objects.get().day == timezone.localdate() - timedelta(days=2)


def test_a_retention_setting_of_zero_keeps_every_record_as_it_keeps_every_response(settings: object) -> None:
    # The same meaning as OARLOCK_RESPONSES_RETENTION_DAYS=0 for purge_responses: keep forever.
    settings.OARLOCK_USAGE_RETENTION_DAYS = 0  # type: ignore[attr-defined]
    store(make_draft(request_id="req_ancient", started_at=_days_ago(400)))
    with pytest.raises(CommandError, match="keep forever"):
        call_command("prune_usage", stdout=io.StringIO())
    assert UsageRecord.objects.filter(request_id="req_ancient").count() == 1
