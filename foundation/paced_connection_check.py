"""Django's connection check for a writer thread, at a pace instead of before every batch.

A thread that writes in batches has no request cycle, so it calls ``close_old_connections``
itself: it closes a connection past ``CONN_MAX_AGE`` or one that failed. With
``CONN_HEALTH_CHECKS`` on, the next query is then preceded by a ``SELECT 1`` round trip; before
every batch of one or two rows under load that was a quarter of the response writer's time
(bench/RESULTS.md). Between checks a connection that died fails its batch, which the writer
retries; after a failure the next batch is checked again.
"""

from __future__ import annotations

import time

from django.db import close_old_connections

CHECK_INTERVAL_SECONDS = 1.0


class PacedConnectionCheck:
    def __init__(self, interval: float = CHECK_INTERVAL_SECONDS) -> None:
        self._interval = interval
        self._checked_at = float("-inf")

    def before_batch(self) -> None:
        now = time.monotonic()
        if now - self._checked_at >= self._interval:
            close_old_connections()
            self._checked_at = now

    def failed(self) -> None:
        """The last batch met a connection error: check before the next one."""
        self._checked_at = float("-inf")
