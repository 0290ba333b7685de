"""Per-minute limits as a generic cell rate algorithm (GCRA): one number per limit.

A limit of N per minute is a bucket that holds N and drains at N per minute. Its whole state is
the *theoretical arrival time* (TAT): the moment the bucket would be empty again. Taking ``a``
units moves the TAT ``a × 60/N`` seconds later; it is allowed while the TAT stays within one
minute of now. So N requests in a burst pass, the N+1st waits exactly until one unit has
drained, and there is no fixed-window edge where 2N slip through. Token reservations are
settled by moving the TAT back (never before now) or further on.

These functions are the in-process implementation and the specification of the Lua version in
``accounts/limit_scripts.py``; the two are tested against the same cases. Times are in ms.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

WINDOW_MS = 60_000


@dataclass(frozen=True, slots=True)
class WindowState:
    """What a client is told about one per-minute limit (the ``x-ratelimit-*`` headers)."""

    limit: int
    remaining: int
    reset_ms: int


def take(tat: float, now: float, limit: int, amount: int) -> tuple[float | None, int]:
    """(new TAT, 0) when ``amount`` fits, else (None, ms until it would fit).

    An amount above the whole limit is taken as the whole limit: such a request waits until the
    bucket is full and then passes, and its real usage is charged when it settles.
    """
    if limit <= 0:
        return None, WINDOW_MS
    start = max(tat, now)
    new_tat = start + min(amount, limit) * WINDOW_MS / limit
    over = new_tat - now - WINDOW_MS
    if over > 0:
        return None, math.ceil(over)
    return new_tat, 0


def settle(tat: float, now: float, limit: int, delta: int) -> float:
    """The TAT after charging ``delta`` more units (or refunding ``-delta``) than were taken."""
    if limit <= 0 or delta == 0:
        return tat
    moved = max(tat, now) + delta * WINDOW_MS / limit
    return max(moved, now)


def state(tat: float, now: float, limit: int) -> WindowState:
    if limit <= 0:
        return WindowState(limit=0, remaining=0, reset_ms=WINDOW_MS)
    busy = max(tat - now, 0.0)
    # Times near 1.8e12 ms carry ~0.0002 ms of float error; do not let it cost a whole unit.
    remaining = math.floor((WINDOW_MS - busy) * limit / WINDOW_MS + 1e-3)
    return WindowState(limit=limit, remaining=max(remaining, 0), reset_ms=math.ceil(busy))
