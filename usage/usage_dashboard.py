"""What the admin usage dashboard shows for a filter: one selector call per panel.

Drill-down is the filter itself: no tenant → top tenants and a table by tenant; a tenant →
its keys; a key → its requests (the only panel that reads raw records, one page at a time).
The tenant and key choices list those with usage in the chosen range.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
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
    usage_models,
    usage_rows,
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


def build_dashboard(usage_filter: UsageFilter, *, group_by: GroupBy, before_id: int | None = None) -> Dashboard:
    """``usage_filter`` must carry a date range (the form's ``default_range`` gives one).

    Four rollup aggregations serve every panel: by day (chart and totals), by tenant over the
    range (tenant choices, top tenants), by key within the chosen tenant (key choices, top
    keys, drill-down), and the table when no panel already holds it.
    """
    assert usage_filter.since is not None and usage_filter.until is not None
    unscoped = usage_filter.tenant_id is None and usage_filter.api_key_id is None
    by_day = usage_rows(usage_filter, "day")
    tenants = usage_rows(replace(usage_filter, tenant_id=None, api_key_id=None), "tenant")
    keys = usage_rows(replace(usage_filter, api_key_id=None), "key")
    table = _table(
        usage_filter,
        group_by,
        by_day=by_day,
        tenants=tenants if unscoped else None,
        keys=keys if usage_filter.api_key_id is None else None,
    )
    requests: list[UsageRecord] = []
    if usage_filter.api_key_id is not None:
        requests = key_requests(
            usage_filter, api_key_id=usage_filter.api_key_id, before_id=before_id, limit=REQUESTS_PAGE + 1
        )
    tenant_choices = [(row.tenant_id, row.tenant) for row in tenants if row.tenant_id is not None]
    key_choices = _key_choices(keys, with_tenant=usage_filter.tenant_id is None)
    return Dashboard(
        usage_filter=usage_filter,
        since=usage_filter.since,
        until=usage_filter.until,
        group_by=group_by,
        totals=report_totals(by_day),
        chart=daily_chart(by_day, since=usage_filter.since, until=usage_filter.until),
        top_tenants=_top(tenants) if unscoped else [],
        top_keys=_top(keys) if usage_filter.api_key_id is None else [],
        table=table,
        table_totals=report_totals(table),
        tenant_name=_label(tenant_choices, usage_filter.tenant_id),
        key_label=_label(key_choices, usage_filter.api_key_id),
        requests=requests[:REQUESTS_PAGE],
        older_requests_before=requests[REQUESTS_PAGE - 1].pk if len(requests) > REQUESTS_PAGE else None,
        models=usage_models(usage_filter),
        tenants=tenant_choices,
        keys=key_choices,
    )


def _table(
    usage_filter: UsageFilter,
    group_by: GroupBy,
    *,
    by_day: list[UsageRow],
    tenants: list[UsageRow] | None,
    keys: list[UsageRow] | None,
) -> list[UsageRow]:
    """The grouped table: a panel's rows when they are exactly the filtered rows, else a query."""
    if group_by == "day":
        return by_day
    if group_by == "tenant" and tenants is not None:
        return tenants
    if group_by == "key" and keys is not None:
        return keys
    return usage_rows(usage_filter, group_by)


def _top(rows: list[UsageRow]) -> list[UsageRow]:
    return sorted(rows, key=lambda row: -row.totals.total_tokens)[:TOP_LIMIT]


def _key_choices(rows: list[UsageRow], *, with_tenant: bool) -> list[tuple[int, str]]:
    if with_tenant:
        rows = sorted(rows, key=lambda row: (row.tenant.lower(), row.key.lower(), row.key_prefix))
    return [
        (row.api_key_id, f"{row.tenant + ' / ' if with_tenant else ''}{row.key} ({row.key_prefix}…)")
        for row in rows
        if row.api_key_id is not None
    ]


def _label(choices: list[tuple[int, str]], chosen: int | None) -> str:
    if chosen is None:
        return ""
    return next((label for value, label in choices if value == chosen), f"#{chosen}")
