"""Rebuilding rollups from records gives what the writer's deltas built, and spares pruned days."""

from __future__ import annotations

import io
from datetime import date

import pytest
from django.core.management import call_command

from paddler_protocol.token_usage import TokenUsage
from tests.usage.usage_drafts import at, make_draft, store
from usage.models import ROLLUP_COUNTERS, UsageRecord, UsageRollup
from usage.usage_rollup import rebuild_usage_rollups

pytestmark = pytest.mark.django_db


def _cells() -> dict[tuple[str, int, int, str], tuple[int, ...]]:
    return {
        (str(cell.day), cell.tenant_id, cell.api_key_id, cell.model): tuple(
            getattr(cell, name) for name in ROLLUP_COUNTERS
        )
        for cell in UsageRollup.objects.all()
    }


def _store_mixed_usage() -> None:
    store(
        make_draft(started_at=at("2025-03-01 10:00"), tokens=TokenUsage(prompt_tokens=5, reasoning_tokens=4)),
        make_draft(started_at=at("2025-03-01 11:00"), api_key_id=2, tenant_id=2),
        make_draft(
            started_at=at("2025-03-02 09:00"),
            outcome="failed",
            prompt_tokens_known=False,
            usage_source="counted",
            tokens=TokenUsage(content_tokens=2),
        ),
    )
    store(
        make_draft(
            started_at=at("2025-03-02 10:00"),
            model="other",
            tokens=TokenUsage(prompt_tokens=8, cached_prompt_tokens=2, tool_call_tokens=3),
        )
    )


def test_rebuilding_reproduces_the_incremental_rollups() -> None:
    _store_mixed_usage()
    incremental = _cells()
    UsageRollup.objects.update(requests=0, prompt_tokens=999)
    assert rebuild_usage_rollups() == len(incremental)
    assert _cells() == incremental


def test_rebuilding_a_range_leaves_other_days_alone() -> None:
    _store_mixed_usage()
    UsageRollup.objects.filter(day=date(2025, 3, 1)).update(requests=42)
    rebuild_usage_rollups(since=date(2025, 3, 2), until=date(2025, 3, 2))
    assert set(UsageRollup.objects.filter(day=date(2025, 3, 1)).values_list("requests", flat=True)) == {42}


def test_rebuilding_by_default_keeps_the_rollups_of_pruned_days() -> None:
    _store_mixed_usage()
    before = _cells()
    UsageRecord.objects.filter(day=date(2025, 3, 1)).delete()
    rebuild_usage_rollups()
    assert _cells() == before


def test_the_rebuild_command_reports_the_cells_it_rebuilt() -> None:
    _store_mixed_usage()
    output = call_command_output("rebuild_usage_rollups", "--since", "2025-03-01", "--until", "2025-03-01")
    assert output.strip() == "Rebuilt 2 usage rollup cells."


def call_command_output(*args: str) -> str:
    out = io.StringIO()
    call_command(*args, stdout=out)
    return out.getvalue()


def test_rebuilding_since_before_the_oldest_record_keeps_the_pruned_days_rollups() -> None:
    _store_mixed_usage()
    store(make_draft(started_at=at("2025-02-20 10:00"), tokens=TokenUsage(prompt_tokens=7, content_tokens=3)))
    before = _cells()
    call_command("prune_usage", "--older-than-days", "1")  # every record is older: all pruned
    store(make_draft(started_at=at("2025-03-02 12:00"), tokens=TokenUsage(prompt_tokens=1)))
    after_new_record = _cells()
    assert after_new_record != before
    output = call_command_output("rebuild_usage_rollups", "--since", "2025-01-01")
    # Only 2025-03-02 still has a record: its cell is rebuilt from it, the pruned days' cells
    # (2025-02-20, 2025-03-01, and the pruned part of 2025-03-02 is gone from the records) stay.
    assert output.strip() == "Rebuilt 1 usage rollup cells."
    cells = _cells()
    assert {day for day, *_ in cells} == {"2025-02-20", "2025-03-01", "2025-03-02"}
    assert all(cells[cell] == before[cell] for cell in before if cell[0] != "2025-03-02")
