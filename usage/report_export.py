"""Usage report rows as CSV or JSON: the one rendering behind ``usage_report``, the admin
CSV export and the usage API (columns and order as design.md specifies)."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Sequence
from typing import Literal

from usage.usage_queries import GroupBy, UsageRow

ReportFormat = Literal["csv", "json"]
ReportValue = str | int

GROUP_COLUMNS: dict[GroupBy, tuple[str, ...]] = {
    "tenant": ("tenant",),
    "key": ("key", "key_prefix"),
    "model": ("model",),
    "day": ("day",),
}
COUNTER_COLUMNS: tuple[str, ...] = (
    "requests",
    "prompt_tokens",
    "cached_prompt_tokens",
    "completion_tokens",
    "content_tokens",
    "reasoning_tokens",
    "tool_call_tokens",
    "undeterminable_tokens",
    "total_tokens",
)


def report_columns(group_by: GroupBy) -> tuple[str, ...]:
    return (*GROUP_COLUMNS[group_by], *COUNTER_COLUMNS)


def report_objects(rows: Sequence[UsageRow], group_by: GroupBy) -> list[dict[str, ReportValue]]:
    """Each row as an object with exactly the report's columns, in order."""
    return [_report_object(row, group_by) for row in rows]


def render_report(rows: Sequence[UsageRow], group_by: GroupBy, report_format: ReportFormat) -> str:
    if report_format == "json":
        return render_json(rows, group_by)
    return render_csv(rows, group_by)


def render_csv(rows: Sequence[UsageRow], group_by: GroupBy) -> str:
    """A header row, then one line per group."""
    output = io.StringIO()
    writer = csv.DictWriter(output, fieldnames=report_columns(group_by), lineterminator="\n")
    writer.writeheader()
    writer.writerows(
        {name: _spreadsheet_safe(value) for name, value in row.items()} for row in report_objects(rows, group_by)
    )
    return output.getvalue()


# A cell starting with one of these runs as a formula when the CSV is opened in a spreadsheet;
# tenant admins choose key names, so such a name could plant one in a staff member's export.
_FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def _spreadsheet_safe(value: ReportValue) -> ReportValue:
    if isinstance(value, str) and value.startswith(_FORMULA_STARTS):
        return "'" + value
    return value


def render_json(rows: Sequence[UsageRow], group_by: GroupBy) -> str:
    """A JSON array of objects (numbers as numbers, days as YYYY-MM-DD)."""
    return json.dumps(report_objects(rows, group_by), indent=2, ensure_ascii=False) + "\n"


def _report_object(row: UsageRow, group_by: GroupBy) -> dict[str, ReportValue]:
    group: dict[str, ReportValue]
    match group_by:
        case "tenant":
            group = {"tenant": row.tenant}
        case "key":
            group = {"key": row.key, "key_prefix": row.key_prefix}
        case "model":
            group = {"model": row.model}
        case "day":
            group = {"day": row.day.isoformat() if row.day is not None else ""}
    totals = row.totals
    counters: dict[str, ReportValue] = {name: getattr(totals, name) for name in COUNTER_COLUMNS}
    return {**group, **counters}
