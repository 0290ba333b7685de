"""Paced fsync for the usage journals: durable within ``FSYNC_INTERVAL_SECONDS``, cheaply.

A journal line is written (into the kernel, safe from a process crash) the moment its thread
takes it; the fsync that makes it safe from a machine crash is shared: at most one per
interval, covering everything written meanwhile. One fsync per line made every write wait on
the disk and, on a busy disk, stalled the server's other writes (its log) behind the flush;
measured by ``bench/journal_fsync_bench.py``.
"""

from __future__ import annotations

import os
import time

FSYNC_INTERVAL_SECONDS = 0.2


class PacedFsync:
    def __init__(self, *, enabled: bool, interval: float = FSYNC_INTERVAL_SECONDS) -> None:
        self.enabled = enabled
        self._interval = interval
        self._dirty: int | None = None
        self._last = float("-inf")

    def wrote(self, descriptor: int) -> None:
        """``descriptor`` has new data: fsync now if the last fsync is old enough, else soon."""
        if not self.enabled:
            return
        self._dirty = descriptor
        self.sync_if_due()

    def pending(self, descriptor: int) -> None:
        """``descriptor`` has new data, for the next ``sync_if_due`` (which another thread runs)."""
        if self.enabled:
            self._dirty = descriptor

    def due_in(self) -> float | None:
        """Seconds until the pending fsync is due (None: nothing pending)."""
        if self._dirty is None:
            return None
        return max(0.0, self._last + self._interval - time.monotonic())

    def sync_if_due(self) -> None:
        if self._dirty is not None and time.monotonic() >= self._last + self._interval:
            self.sync()

    def sync(self) -> None:
        """fsync what is pending now (before a file is swapped or closed)."""
        if self._dirty is None:
            return
        descriptor, self._dirty = self._dirty, None
        os.fsync(descriptor)
        self._last = time.monotonic()

    def forget(self) -> None:
        """The descriptor is closing after its own fsync: nothing pending any more."""
        self._dirty = None
