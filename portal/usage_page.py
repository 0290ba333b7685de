"""What a portal usage page shows (selector): one scope's usage over a range of days.

Reads through ``usage.usage_queries`` — the same layer as the admin dashboard, ``usage_report``
and ``/api/usage/`` — so every number matches theirs. A page costs four rollup aggregations
(by day, key, model; the budget period by day when it starts before the range).
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import date, timedelta

from django.utils import timezone

from accounts.models import Tenant
from portal.budget_burndown import BurnDown, burn_down
from usage.usage_chart import DailyChart, daily_chart
from usage.usage_queries import UsageFilter, UsageRow, UsageTotals, report_totals, usage_rows

RANGE_CHOICES = (7, 30, 90)
DEFAULT_RANGE = 30


@dataclass(frozen=True, slots=True)
class UsagePage:
    days: int
    since: date
    until: date
    totals: UsageTotals
    chart: DailyChart
    by_day: list[UsageRow]
    by_key: list[UsageRow]
    by_model: list[UsageRow]
    budgets: list[BurnDown]


def range_filter(base: UsageFilter, days: int) -> UsageFilter:
    until = timezone.localdate()
    return replace(base, since=until - timedelta(days=days - 1), until=until)


def usage_page(base: UsageFilter, *, days: int, budget_tenants: list[Tenant]) -> UsagePage:
    usage_filter = range_filter(base, days)
    assert usage_filter.since is not None and usage_filter.until is not None
    by_day = usage_rows(usage_filter, "day")
    return UsagePage(
        days=days,
        since=usage_filter.since,
        until=usage_filter.until,
        totals=report_totals(by_day),
        chart=daily_chart(by_day, since=usage_filter.since, until=usage_filter.until),
        by_day=list(reversed(by_day)),
        by_key=sorted(usage_rows(usage_filter, "key"), key=lambda row: -row.totals.total_tokens),
        by_model=sorted(usage_rows(usage_filter, "model"), key=lambda row: -row.totals.total_tokens),
        budgets=[_tenant_budget(tenant) for tenant in budget_tenants if tenant.token_budget],
    )


def _tenant_budget(tenant: Tenant) -> BurnDown:
    """The tenant's budget is shared by its members: its burn-down counts the whole tenant."""
    today = timezone.localdate()
    # A month at most back: covers the current day, week or month period.
    rows = usage_rows(UsageFilter(since=today - timedelta(days=31), until=today, tenant_id=tenant.pk), "day")
    return burn_down(
        holder=tenant.name, budget=int(tenant.token_budget or 0), period=tenant.budget_period, by_day=rows
    )
