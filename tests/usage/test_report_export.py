"""CSV and JSON renderings of report rows: columns and order as design.md specifies."""

from __future__ import annotations

import csv
import io
import json
from datetime import date

from usage.report_export import render_csv, render_json, report_columns
from usage.usage_queries import UsageRow, UsageTotals

TOTALS = UsageTotals(
    requests=3,
    prompt_tokens=21,
    cached_prompt_tokens=1,
    content_tokens=11,
    reasoning_tokens=57,
    tool_call_tokens=2,
    undeterminable_tokens=1,
    completion_tokens=71,
)
COUNTERS = [
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


def test_each_grouping_leads_with_its_own_columns() -> None:
    assert report_columns("tenant") == ("tenant", *COUNTERS)
    assert report_columns("key") == ("key", "key_prefix", *COUNTERS)
    assert report_columns("model") == ("model", *COUNTERS)
    assert report_columns("day") == ("day", *COUNTERS)


def test_csv_has_a_header_row_then_one_line_per_group() -> None:
    text = render_csv([UsageRow(TOTALS, key="ci, nightly", key_prefix="oar_x")], "key")
    rows = list(csv.reader(io.StringIO(text)))
    assert rows == [
        ["key", "key_prefix", *COUNTERS],
        ["ci, nightly", "oar_x", "3", "21", "1", "71", "11", "57", "2", "1", "92"],
    ]


def test_json_is_an_array_of_objects_with_numbers_and_iso_days() -> None:
    value = json.loads(render_json([UsageRow(TOTALS, day=date(2025, 3, 1))], "day"))
    assert value == [
        {
            "day": "2025-03-01",
            "requests": 3,
            "prompt_tokens": 21,
            "cached_prompt_tokens": 1,
            "completion_tokens": 71,
            "content_tokens": 11,
            "reasoning_tokens": 57,
            "tool_call_tokens": 2,
            "undeterminable_tokens": 1,
            "total_tokens": 92,
        }
    ]
    assert list(value[0]) == ["day", *COUNTERS]


def test_an_empty_report_is_a_header_or_an_empty_array() -> None:
    assert render_csv([], "model") == ",".join(["model", *COUNTERS]) + "\n"
    assert json.loads(render_json([], "model")) == []
