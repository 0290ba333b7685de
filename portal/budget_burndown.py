"""A token budget in its current period: used, remaining, burn-down line and projected run-out.

The projection is linear: the average rate so far in the period, carried forward. The chart is
plain geometry (like ``usage.usage_chart``) drawn as inline SVG by the template.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from django.utils import timezone

from accounts.token_budget import budget_window
from usage.usage_chart import _compact as _compact  # the dashboard's axis labels: 2.5M, 625k
from usage.usage_queries import UsageRow

# The same scale as the daily chart (usage.usage_chart): labels the same size on screen.
WIDTH, HEIGHT = 900, 220
LEFT, RIGHT, TOP, BOTTOM = 70, 24, 12, 28


@dataclass(frozen=True, slots=True)
class BurnDown:
    holder: str
    budget: int
    period: str
    period_start: date
    period_end: date  # the last day of the period
    used: int
    projected_run_out: date | None  # None: the budget outlasts the period at this rate
    actual_points: str
    projected_points: str
    y_labels: tuple[tuple[float, str], ...]
    x_labels: tuple[tuple[float, str], ...]
    width: int = WIDTH
    height: int = HEIGHT
    plot_left: int = LEFT
    plot_right: int = WIDTH - RIGHT
    plot_bottom: int = HEIGHT - BOTTOM

    @property
    def remaining(self) -> int:
        return max(self.budget - self.used, 0)

    @property
    def used_percent(self) -> int:
        return min(100, round(100 * self.used / self.budget)) if self.budget else 100


def burn_down(
    *, holder: str, budget: int, period: str, by_day: Sequence[UsageRow], now: datetime | None = None
) -> BurnDown:
    """``by_day``: the holder's usage grouped by day (at least over the current period)."""
    now = now or timezone.now()
    window = budget_window(period, now, timezone.get_current_timezone())  # type: ignore[arg-type]  # a BudgetPeriod choice of the model
    first, last = window.start.date(), window.end.date() - timedelta(days=1)
    today = timezone.localdate(now)
    daily = {row.day: row.totals.total_tokens for row in by_day if row.day and first <= row.day <= today}
    days = (last - first).days + 1
    remaining, points = budget, []
    for offset in range((today - first).days + 1):
        remaining -= daily.get(first + timedelta(days=offset), 0)
        points.append((offset + 1, max(remaining, 0)))
    used = budget - remaining
    rate = used / ((today - first).days + 1)
    run_out = _run_out(budget=budget, used=used, rate=rate, first=first, last=last, today=today)

    def x(day_index: float) -> float:
        return LEFT + (WIDTH - RIGHT - LEFT) * day_index / days

    def y(value: float) -> float:
        return TOP + (HEIGHT - BOTTOM - TOP) * (1 - value / budget) if budget else HEIGHT - BOTTOM

    actual = [(x(0), y(budget))] + [(x(index), y(value)) for index, value in points]
    end_value = max(budget - rate * days, 0)
    projected = [actual[-1], (x(days), y(end_value))] if rate > 0 and used < budget else []
    return BurnDown(
        holder=holder,
        budget=budget,
        period=period,
        period_start=first,
        period_end=last,
        used=used,
        projected_run_out=run_out,
        actual_points=" ".join(f"{px:.1f},{py:.1f}" for px, py in actual),
        projected_points=" ".join(f"{px:.1f},{py:.1f}" for px, py in projected),
        y_labels=tuple((y(budget * step / 4), _compact(budget * step / 4)) for step in range(5)),
        x_labels=((x(0), first.strftime("%m-%d")), (x(days), (last + timedelta(days=1)).strftime("%m-%d"))),
    )


def _run_out(*, budget: int, used: int, rate: float, first: date, last: date, today: date) -> date | None:
    """The day the budget runs out at ``rate`` tokens a day; None if it outlasts the period."""
    if used >= budget:
        return today
    if rate <= 0:
        return None
    day = first + timedelta(days=int(budget / rate))
    return day if day <= last else None
