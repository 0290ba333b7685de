"""The budget burn-down: remaining tokens, and the run-out date projected at the current rate."""

from __future__ import annotations

from datetime import UTC, date, datetime

from portal.budget_burndown import burn_down
from usage.usage_queries import UsageRow, UsageTotals


def _day(day: date, tokens: int) -> UsageRow:
    return UsageRow(UsageTotals(prompt_tokens=tokens), day=day)


def test_a_month_budget_burning_fast_projects_its_run_out_day() -> None:
    now = datetime(2026, 11, 10, 12, tzinfo=UTC)  # day 10 of 30
    rows = [_day(date(2026, 11, day), 5_000) for day in range(1, 11)]  # 50k used in 10 days
    chart = burn_down(holder="acme", budget=100_000, period="month", by_day=rows, now=now)
    assert (chart.used, chart.remaining, chart.used_percent) == (50_000, 50_000, 50)
    assert (chart.period_start, chart.period_end) == (date(2026, 11, 1), date(2026, 11, 30))
    assert chart.projected_run_out == date(2026, 11, 21)  # 5k a day: 100k lasts 20 days
    assert chart.projected_points  # the dashed projection is drawn


def test_a_slow_burn_lasts_the_period_and_an_exhausted_budget_ran_out_today() -> None:
    now = datetime(2026, 11, 10, 12, tzinfo=UTC)
    slow = burn_down(holder="acme", budget=1_000_000, period="month",
                     by_day=[_day(date(2026, 11, 2), 10)], now=now)
    assert slow.projected_run_out is None and slow.remaining == 999_990
    spent = burn_down(holder="acme", budget=100, period="week",
                      by_day=[_day(date(2026, 11, 9), 250), _day(date(2026, 11, 1), 9_999)], now=now)
    # The week started on Monday 9 November: the usage of 1 November is another period's.
    assert (spent.period_start, spent.used, spent.remaining) == (date(2026, 11, 9), 250, 0)
    assert spent.projected_run_out == date(2026, 11, 10)
    assert spent.projected_points == ""
