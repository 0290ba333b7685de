"""The dashboard chart's geometry: every day of the range, zero-filled, on a round scale."""

from __future__ import annotations

from datetime import date

from usage.usage_chart import daily_chart
from usage.usage_queries import UsageRow, UsageTotals


def _day(day: int, **totals: int) -> UsageRow:
    return UsageRow(UsageTotals(**totals), day=date(2025, 3, day))


def test_every_day_of_the_range_has_a_point_and_missing_days_are_zero() -> None:
    chart = daily_chart([_day(2, prompt_tokens=80)], since=date(2025, 3, 1), until=date(2025, 3, 4))
    prompt = chart.series[0]
    assert prompt.label == "prompt"
    assert [dot.title for dot in prompt.dots] == [
        "2025-03-01 prompt: 0",
        "2025-03-02 prompt: 80",
        "2025-03-03 prompt: 0",
        "2025-03-04 prompt: 0",
    ]
    assert prompt.dots[0].y == chart.plot_bottom
    assert prompt.dots[1].y < chart.plot_bottom


def test_the_four_kinds_are_prompt_completion_reasoning_and_cached() -> None:
    chart = daily_chart([], since=date(2025, 3, 1), until=date(2025, 3, 1))
    assert [series.label for series in chart.series] == ["prompt", "completion", "reasoning", "cached prompt"]


def test_the_scale_is_a_round_number_above_the_peak() -> None:
    chart = daily_chart([_day(1, completion_tokens=2_300_000)], since=date(2025, 3, 1), until=date(2025, 3, 2))
    assert [tick.label for tick in chart.y_ticks] == ["0", "625k", "1.25M", "1.88M", "2.5M"]
    peak = chart.series[1].dots[0]
    assert chart.plot_top < peak.y < chart.plot_bottom
