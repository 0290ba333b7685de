"""``manage.py usage_report``: the output contract of design.md, on stored usage."""

from __future__ import annotations

import csv
import io
import json

import pytest
from django.core.management import CommandError, call_command

from paddler_protocol.token_usage import TokenUsage
from tests.factories import make_api_key, make_tenant
from tests.usage.usage_drafts import at, make_draft, store

pytestmark = pytest.mark.django_db

HEADER_COUNTERS = [
    "requests",
    "prompt_tokens",
    "cached_prompt_tokens",
    "completion_tokens",
    "content_tokens",
    "reasoning_tokens",
    "tool_call_tokens",
    "undeterminable_tokens",
    "total_tokens",
]


def report(*args: str) -> str:
    out = io.StringIO()
    call_command("usage_report", *args, stdout=out)
    return out.getvalue()


@pytest.fixture
def usage() -> None:
    key, _ = make_api_key(tenant=make_tenant(name="acme"), name="ci")
    other, _ = make_api_key(tenant=make_tenant(name="globex"), name="web")
    rich = TokenUsage(
        prompt_tokens=21,
        cached_prompt_tokens=2,
        content_tokens=11,
        reasoning_tokens=57,
        tool_call_tokens=2,
        undeterminable_tokens=1,
    )
    store(
        make_draft(tenant_id=key.tenant_id, api_key_id=key.pk, started_at=at("2025-03-01 10:00"), tokens=rich),
        make_draft(
            tenant_id=key.tenant_id,
            api_key_id=key.pk,
            started_at=at("2025-03-02 10:00"),
            model="qwen",
            tokens=TokenUsage(prompt_tokens=4, content_tokens=6),
        ),
        make_draft(
            tenant_id=other.tenant_id,
            api_key_id=other.pk,
            started_at=at("2025-03-02 11:00"),
            tokens=TokenUsage(prompt_tokens=100, reasoning_tokens=1),
        ),
    )


def test_the_default_is_csv_grouped_by_tenant(usage: None) -> None:
    rows = list(csv.reader(io.StringIO(report())))
    assert rows == [
        ["tenant", *HEADER_COUNTERS],
        ["acme", "2", "25", "2", "77", "17", "57", "2", "1", "102"],
        ["globex", "1", "100", "0", "1", "0", "1", "0", "0", "101"],
    ]


def test_grouping_by_key_names_the_key_and_its_prefix(usage: None) -> None:
    rows = json.loads(report("--group-by", "key", "--format", "json"))
    assert [(row["key"], row["key_prefix"].startswith("oar_"), row["total_tokens"]) for row in rows] == [
        ("ci", True, 102),
        ("web", True, 101),
    ]
    assert list(rows[0]) == ["key", "key_prefix", *HEADER_COUNTERS]


def test_grouping_by_model_and_day(usage: None) -> None:
    models = json.loads(report("--group-by", "model", "--format", "json"))
    assert [(row["model"], row["requests"]) for row in models] == [("default", 2), ("qwen", 1)]
    days = list(csv.DictReader(io.StringIO(report("--group-by", "day"))))
    assert [(row["day"], row["requests"]) for row in days] == [("2025-03-01", "1"), ("2025-03-02", "2")]


def test_since_and_until_are_inclusive_days(usage: None) -> None:
    rows = json.loads(report("--group-by", "day", "--since", "2025-03-02", "--until", "2025-03-02", "--format", "json"))
    assert [row["day"] for row in rows] == ["2025-03-02"]
    assert json.loads(report("--since", "2025-03-03", "--format", "json")) == []


def test_a_reversed_range_is_refused() -> None:
    with pytest.raises(CommandError):
        call_command("usage_report", "--since", "2025-03-02", "--until", "2025-03-01")


def test_a_malformed_date_is_refused() -> None:
    with pytest.raises(CommandError):
        call_command("usage_report", "--since", "yesterday")
