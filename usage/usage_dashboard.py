"""What the admin usage dashboard shows for a filter: one selector call per panel.

Drill-down is the filter itself: no tenant → top tenants and a table by tenant; a tenant →
its keys; a key → its requests (the only panel that reads raw records, one page at a time).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from usage.models import UsageRecord
from usage.usage_chart import DailyChart, daily_chart
from usage.usage_queries import (
    GroupBy,
    UsageFilter,
    UsageRow,
    UsageTotals,
    key_requests,
    report_totals,
    usage_keys,
    usage_models,
    usage_rows,
    usage_tenants,
    usage_totals,
)

TOP_LIMIT = 10
REQUESTS_PAGE = 50


@dataclass(frozen=True, slots=True)
class Dashboard:
    usage_filter: UsageFilter
    since: date
    until: date
    group_by: GroupBy
    totals: UsageTotals
    chart: DailyChart
    top_tenants: list[UsageRow]
    top_keys: list[UsageRow]
    table: list[UsageRow]
    table_totals: UsageTotals
    tenant_name: str
    key_label: str
    requests: list[UsageRecord]
    older_requests_before: int | None
    models: list[str]
    tenants: list[tuple[int, str]]
    keys: list[tuple[int, str]]


def default_group_by(usage_filter: UsageFilter) -> GroupBy:
    if usage_filter.api_key_id is not None:
        return "day"
    if usage_filter.tenant_id is not None:
        return "key"
    return "tenant"


def build_dashboard(
    usage_filter: UsageFilter, *, group_by: GroupBy, before_id: int | None = None
) -> Dashboard:
    """``usage_filter`` must carry a date range (the form's ``default_range`` gives one)."""
    assert usage_filter.since is not None and usage_filter.until is not None
    table = usage_rows(usage_filter, group_by)
    by_day = table if group_by == "day" else usage_rows(usage_filter, "day")
    top_keys = usage_rows(usage_filter, "key", top=TOP_LIMIT)
    requests: list[UsageRecord] = []
    if usage_filter.api_key_id is not None:
        requests = key_requests(
            usage_filter, api_key_id=usage_filter.api_key_id, before_id=before_id, limit=REQUESTS_PAGE + 1
        )
    tenants = usage_tenants()
    keys = usage_keys(usage_filter.tenant_id)
    return Dashboard(
        usage_filter=usage_filter,
        since=usage_filter.since,
        until=usage_filter.until,
        group_by=group_by,
        totals=usage_totals(usage_filter),
        chart=daily_chart(by_day, since=usage_filter.since, until=usage_filter.until),
        top_tenants=usage_rows(usage_filter, "tenant", top=TOP_LIMIT),
        top_keys=top_keys,
        table=table,
        table_totals=report_totals(table),
        tenant_name=_label(tenants, usage_filter.tenant_id),
        key_label=_label(keys, usage_filter.api_key_id),
        requests=requests[:REQUESTS_PAGE],
        older_requests_before=requests[REQUESTS_PAGE - 1].pk if len(requests) > REQUESTS_PAGE else None,
        models=usage_models(usage_filter),
        tenants=tenants,
        keys=keys,
    )


def _label(choices: list[tuple[int, str]], chosen: int | None) -> str:
    if chosen is None:
        return ""
    return next((label for value, label in choices if value == chosen), f"#{chosen}")
