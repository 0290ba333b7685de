"""GCRA per-minute windows (the specification the Lua script follows)."""

from __future__ import annotations

import pytest

from accounts import rate_window
from accounts.rate_window import WindowState


def test_taking_moves_the_theoretical_arrival_time_by_the_interval_of_each_unit() -> None:
    assert rate_window.take(0.0, 1000.0, 60, 1) == (2000.0, 0)
    assert rate_window.take(5000.0, 1000.0, 60, 3) == (8000.0, 0)


def test_taking_more_than_the_window_holds_is_refused_with_the_wait() -> None:
    # 60 per minute, TAT 60 s ahead: one more fits in exactly one second.
    assert rate_window.take(61_000.0, 1000.0, 60, 1) == (None, 1000)


def test_an_amount_above_the_limit_is_taken_as_the_whole_limit() -> None:
    assert rate_window.take(0.0, 0.0, 100, 10_000) == (60_000.0, 0)


@pytest.mark.parametrize(
    ("tat", "delta", "expected"),
    [
        (30_000.0, -10, 20_000.0),  # refund moves the TAT back
        (30_000.0, -100, 1000.0),  # but never before now
        (500.0, 10, 11_000.0),  # a charge starts from now when the bucket is full
        (30_000.0, 0, 30_000.0),
    ],
)
def test_settling_charges_or_refunds_the_difference(tat: float, delta: int, expected: float) -> None:
    assert rate_window.settle(tat, 1000.0, 60, delta) == expected


def test_the_state_says_how_many_remain_and_when_the_window_is_full_again() -> None:
    assert rate_window.state(31_000.0, 1000.0, 60) == WindowState(limit=60, remaining=30, reset_ms=30_000)
    assert rate_window.state(0.0, 1000.0, 60) == WindowState(limit=60, remaining=60, reset_ms=0)
