"""Token budget periods: calendar days, ISO weeks and months in the server's time zone.

A budget counts the tokens of one period; the counter of the next period starts at zero, so a
budget resets by itself — nobody has to run a job at midnight. The period a request belongs to is
the one it was admitted in; it settles there even if it ends after the boundary.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta, tzinfo
from typing import Literal, assert_never

BudgetPeriodName = Literal["day", "week", "month"]


@dataclass(frozen=True, slots=True)
class BudgetWindow:
    period: BudgetPeriodName
    start: datetime
    end: datetime

    @property
    def label(self) -> str:
        """Names the period in counter keys: ``day:2026-11-26``, ``week:2026-11-23``, ``month:2026-11``."""
        if self.period == "month":
            return f"month:{self.start:%Y-%m}"
        return f"{self.period}:{self.start.date().isoformat()}"

    def contains(self, moment: datetime) -> bool:
        return self.start <= moment < self.end


def budget_window(period: BudgetPeriodName, now: datetime, zone: tzinfo) -> BudgetWindow:
    """The calendar period of ``period`` kind that contains ``now`` (aware), in ``zone``."""
    today = now.astimezone(zone).date()
    match period:
        case "day":
            first, after = today, today + timedelta(days=1)
        case "week":
            first = today - timedelta(days=today.weekday())  # ISO weeks start on Monday
            after = first + timedelta(days=7)
        case "month":
            first = today.replace(day=1)
            after = date(first.year + first.month // 12, first.month % 12 + 1, 1)
        case _:
            assert_never(period)
    return BudgetWindow(period=period, start=_midnight(first, zone), end=_midnight(after, zone))


def _midnight(day: date, zone: tzinfo) -> datetime:
    # zoneinfo works out the UTC offset of that local midnight, DST included.
    return datetime.combine(day, time.min, tzinfo=zone)
