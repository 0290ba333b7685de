"""OpenAI's ``x-ratelimit-*`` headers and the "try again in" wording clients parse.

Durations are Go-style strings as OpenAI sends them (``640ms``, ``1.5s``, ``6m0s``, ``1h2m3.5s``);
Codex and other clients read the delay out of the message ("Please try again in 1.5s").
"""

from __future__ import annotations

import math

from accounts.rate_window import WindowState


def rate_limit_headers(*, requests: WindowState | None = None, tokens: WindowState | None = None) -> dict[str, str]:
    headers: dict[str, str] = {}
    for name, window in (("requests", requests), ("tokens", tokens)):
        if window is None:
            continue
        headers[f"x-ratelimit-limit-{name}"] = str(window.limit)
        headers[f"x-ratelimit-remaining-{name}"] = str(window.remaining)
        headers[f"x-ratelimit-reset-{name}"] = go_duration(window.reset_ms)
    return headers


def retry_headers(retry_after_ms: int) -> dict[str, str]:
    """``retry-after-ms`` is exact (the SDKs prefer it); ``retry-after`` is whole seconds, ≥ 1."""
    return {
        "retry-after-ms": str(max(retry_after_ms, 1)),
        "retry-after": str(max(1, math.ceil(retry_after_ms / 1000))),
    }


def go_duration(ms: int) -> str:
    if ms <= 0:
        return "0s"
    if ms < 1000:
        return f"{ms}ms"
    hours, rest = divmod(ms, 3_600_000)
    minutes, rest = divmod(rest, 60_000)
    seconds = f"{rest / 1000:.3f}".rstrip("0").rstrip(".")
    if hours:
        return f"{hours}h{minutes}m{seconds}s"
    if minutes:
        return f"{minutes}m{seconds}s"
    return f"{seconds}s"


def try_again_in(ms: int) -> str:
    """A delay never shorter than the real one: ``644ms``, ``1.5s``, ``12s``."""
    if ms < 1000:
        return f"{max(ms, 1)}ms"
    return f"{math.ceil(ms / 100) / 10:g}s"
