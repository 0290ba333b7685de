"""Budget periods are calendar-aligned in the configured time zone."""

from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import pytest

from accounts.token_budget import budget_window

BERLIN = ZoneInfo("Europe/Berlin")


def test_a_day_runs_from_local_midnight_to_local_midnight() -> None:
    # 23:30 UTC on the 26th is already the 27th in Berlin.
    window = budget_window("day", datetime(2026, 11, 26, 23, 30, tzinfo=UTC), BERLIN)
    assert window.start == datetime(2026, 11, 27, tzinfo=BERLIN)
    assert window.end == datetime(2026, 11, 28, tzinfo=BERLIN)
    assert window.label == "day:2026-11-27"


def test_a_week_starts_on_monday() -> None:
    window = budget_window("week", datetime(2026, 11, 26, 12, tzinfo=UTC), BERLIN)  # a Thursday
    assert window.start == datetime(2026, 11, 23, tzinfo=BERLIN)
    assert window.end == datetime(2026, 11, 30, tzinfo=BERLIN)
    assert window.label == "week:2026-11-23"


@pytest.mark.parametrize(
    ("now", "start", "end"),
    [
        (datetime(2026, 11, 26, 12, tzinfo=UTC), datetime(2026, 11, 1), datetime(2026, 12, 1)),
        (datetime(2026, 12, 31, 12, tzinfo=UTC), datetime(2026, 12, 1), datetime(2027, 1, 1)),
        (datetime(2028, 2, 29, 12, tzinfo=UTC), datetime(2028, 2, 1), datetime(2028, 3, 1)),
    ],
)
def test_a_month_runs_from_the_first_to_the_first(now: datetime, start: datetime, end: datetime) -> None:
    window = budget_window("month", now, BERLIN)
    assert (window.start, window.end) == (start.replace(tzinfo=BERLIN), end.replace(tzinfo=BERLIN))


def test_a_day_with_a_daylight_saving_change_is_23_hours_long() -> None:
    window = budget_window("day", datetime(2026, 3, 29, 12, tzinfo=UTC), BERLIN)
    # (Aware datetimes of one zone subtract as wall times; compare the instants in UTC.)
    assert (window.end.astimezone(UTC) - window.start.astimezone(UTC)).total_seconds() == 23 * 3600


def test_the_instant_of_midnight_belongs_to_the_new_period() -> None:
    midnight = datetime(2026, 12, 1, tzinfo=BERLIN)
    assert budget_window("month", midnight, BERLIN).label == "month:2026-12"
    assert not budget_window("month", midnight, BERLIN).contains(datetime(2026, 11, 30, 23, 59, tzinfo=BERLIN))
