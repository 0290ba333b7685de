from __future__ import annotations

import pytest

from accounts.rate_limit_headers import (
    go_duration,
    rate_limit_headers,
    retry_headers,
    try_again_in,
)
from accounts.rate_window import WindowState


@pytest.mark.parametrize(
    ("ms", "text"),
    [(0, "0s"), (640, "640ms"), (1000, "1s"), (1500, "1.5s"), (360_000, "6m0s"), (3_723_500, "1h2m3.5s")],
)
def test_durations_are_written_the_way_openai_writes_them(ms: int, text: str) -> None:
    assert go_duration(ms) == text


@pytest.mark.parametrize(("ms", "text"), [(644, "644ms"), (1500, "1.5s"), (1501, "1.6s"), (12_000, "12s")])
def test_the_wait_in_messages_is_never_shorter_than_the_real_one(ms: int, text: str) -> None:
    assert try_again_in(ms) == text


def test_only_the_limits_that_apply_get_headers() -> None:
    headers = rate_limit_headers(requests=WindowState(limit=60, remaining=59, reset_ms=1000), tokens=None)
    assert headers == {
        "x-ratelimit-limit-requests": "60",
        "x-ratelimit-remaining-requests": "59",
        "x-ratelimit-reset-requests": "1s",
    }


def test_retry_after_is_whole_seconds_and_retry_after_ms_is_exact() -> None:
    assert retry_headers(1500) == {"retry-after-ms": "1500", "retry-after": "2"}
    assert retry_headers(20) == {"retry-after-ms": "20", "retry-after": "1"}
