"""When the supervisor restarts a dead local engine, and when it gives up.

An engine that dies now and then (killed by the OOM killer, one bad request) is restarted after
a short, growing pause. An engine that keeps dying — the same crash on every request, a model
that no longer loads — is not restarted forever: after ``max_restarts`` deaths within
``window_seconds`` the supervisor stops ``make serve`` with the reason instead of serving an
upstream that is dead most of the time.
"""

from __future__ import annotations

import collections
import time
from collections.abc import Callable


class RestartPolicy:
    def __init__(
        self,
        *,
        max_restarts: int = 3,
        window_seconds: float = 120.0,
        first_delay: float = 1.0,
        max_delay: float = 8.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.max_restarts = max_restarts
        self.window_seconds = window_seconds
        self._first_delay = first_delay
        self._max_delay = max_delay
        self._clock = clock
        self._deaths: collections.deque[float] = collections.deque()

    def record_death(self) -> float | None:
        """Note a death now: the pause before the restart, or ``None`` to give up."""
        now = self._clock()
        self._deaths.append(now)
        while self._deaths and now - self._deaths[0] > self.window_seconds:
            self._deaths.popleft()
        recent = len(self._deaths)
        if recent > self.max_restarts:
            return None
        delay: float = self._first_delay * 2.0 ** (recent - 1)
        return min(delay, self._max_delay)

    @property
    def recent_deaths(self) -> int:
        return len(self._deaths)
