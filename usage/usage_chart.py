"""The dashboard's per-day chart as plain geometry, drawn as inline SVG by the template.

Server-side on purpose: the admin may run where there is no internet, so no CDN chart library,
and a line chart of four series is a few polylines.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, timedelta

from usage.usage_queries import UsageRow

WIDTH = 900
HEIGHT = 260
MARGIN_LEFT = 70
MARGIN_RIGHT = 16
MARGIN_TOP = 12
MARGIN_BOTTOM = 28
Y_TICKS = 4
# Longer ranges are still drawn, but only this many days get an x label.
X_LABELS = 8

# (counter, legend label, colour): the four kinds the issue asks to chart.
CHART_KINDS: tuple[tuple[str, str, str], ...] = (
    ("prompt_tokens", "prompt", "#1f77b4"),
    ("completion_tokens", "completion", "#2ca02c"),
    ("reasoning_tokens", "reasoning", "#9467bd"),
    ("cached_prompt_tokens", "cached prompt", "#ff7f0e"),
)


@dataclass(frozen=True, slots=True)
class ChartPoint:
    x: float
    y: float
    title: str


@dataclass(frozen=True, slots=True)
class ChartSeries:
    label: str
    color: str
    points: str  # the polyline's "x,y x,y …"
    dots: tuple[ChartPoint, ...]


@dataclass(frozen=True, slots=True)
class ChartTick:
    position: float
    label: str


@dataclass(frozen=True, slots=True)
class DailyChart:
    width: int
    height: int
    plot_left: int
    plot_right: int
    plot_top: int
    plot_bottom: int
    series: tuple[ChartSeries, ...]
    y_ticks: tuple[ChartTick, ...]
    x_ticks: tuple[ChartTick, ...]


def daily_chart(rows: Sequence[UsageRow], *, since: date, until: date) -> DailyChart:
    """``rows`` grouped by day; days without usage between ``since`` and ``until`` count 0."""
    by_day = {row.day: row.totals for row in rows if row.day is not None}
    days = [since + timedelta(days=offset) for offset in range((until - since).days + 1)]
    peak = max((getattr(by_day[day], kind) for day in by_day for kind, _, _ in CHART_KINDS), default=0)
    scale_max = _nice_ceiling(peak)
    series = tuple(
        _series(
            label,
            color,
            [(day, getattr(by_day[day], kind) if day in by_day else 0) for day in days],
            scale_max,
            len(days),
        )
        for kind, label, color in CHART_KINDS
    )
    y_ticks = tuple(
        ChartTick(_y(scale_max * step / Y_TICKS, scale_max), _compact(scale_max * step / Y_TICKS))
        for step in range(Y_TICKS + 1)
    )
    stride = max(1, -(-len(days) // X_LABELS))
    x_ticks = tuple(
        ChartTick(_x(index, len(days)), day.strftime("%m-%d")) for index, day in enumerate(days) if index % stride == 0
    )
    return DailyChart(
        WIDTH,
        HEIGHT,
        MARGIN_LEFT,
        WIDTH - MARGIN_RIGHT,
        MARGIN_TOP,
        HEIGHT - MARGIN_BOTTOM,
        series,
        y_ticks,
        x_ticks,
    )


def _series(label: str, color: str, values: Sequence[tuple[date, int]], scale_max: int, day_count: int) -> ChartSeries:
    dots = tuple(
        ChartPoint(_x(index, day_count), _y(value, scale_max), f"{day.isoformat()} {label}: {value:,}")
        for index, (day, value) in enumerate(values)
    )
    return ChartSeries(label, color, " ".join(f"{dot.x:.1f},{dot.y:.1f}" for dot in dots), dots)


def _x(index: int, day_count: int) -> float:
    span = WIDTH - MARGIN_RIGHT - MARGIN_LEFT
    if day_count <= 1:
        return MARGIN_LEFT + span / 2
    return MARGIN_LEFT + span * index / (day_count - 1)


def _y(value: float, scale_max: int) -> float:
    span = HEIGHT - MARGIN_BOTTOM - MARGIN_TOP
    return HEIGHT - MARGIN_BOTTOM - span * (value / scale_max)


def _compact(value: float) -> str:
    """Axis labels: 2.5M, 625k, 40."""
    for threshold, suffix in ((1_000_000_000, "G"), (1_000_000, "M"), (1_000, "k")):
        if value >= threshold:
            return f"{value / threshold:.3g}{suffix}"
    return f"{value:.3g}"


def _nice_ceiling(value: int) -> int:
    """The smallest 1, 2, 2.5 or 5 × 10^n that is ≥ ``value`` (≥ 1): round axis labels."""
    magnitude = 1
    while True:
        for factor in (1, 2, 2.5, 5):
            candidate = int(factor * magnitude)
            if candidate >= value and candidate >= 1:
                return candidate
        magnitude *= 10
