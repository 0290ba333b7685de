"""The console log handler, writing from a thread of its own.

Every request ends in one INFO line (the usage meter's summary). Formatted and written on the
event loop, that line cost ~5-7 % of a short request's time on the loop (bench/RESULTS.md):
the ``write`` to stderr is a system call, and the formatting is pure Python. Here the loop only
builds the record, runs the filters (the request id is read from the request's own context, so
it must be stamped on the calling thread) and queues it; a listener thread formats and writes.

Lines keep their order (one queue, one writer). At a clean exit the queue is drained
(``atexit``); a process killed with SIGKILL loses what was queued and not yet written — a few
milliseconds of lines at most, never a usage record (those have their own journal).
"""

from __future__ import annotations

import atexit
import contextlib
import copy
import logging
import queue
from logging.handlers import QueueHandler, QueueListener
from typing import TextIO


class BackgroundStreamHandler(QueueHandler):
    def __init__(self, stream: TextIO | None = None) -> None:
        records: queue.SimpleQueue[logging.LogRecord] = queue.SimpleQueue()
        super().__init__(records)
        self.target = logging.StreamHandler(stream)
        self._listener = QueueListener(records, self.target)
        self._listener.start()
        self._running = True
        atexit.register(self.flush_and_stop)

    def setFormatter(self, fmt: logging.Formatter | None) -> None:
        super().setFormatter(fmt)
        self.target.setFormatter(fmt)

    def prepare(self, record: logging.LogRecord) -> logging.LogRecord:
        # Fix now what could change before the thread formats it: the message's arguments
        # (client objects may mutate) and the exception (its frames move on). Time, level and
        # request id are already plain values on the record.
        prepared = copy.copy(record)
        prepared.msg, prepared.args = record.getMessage(), None
        if record.exc_info:
            formatter = self.formatter or logging.Formatter()
            prepared.exc_text = record.exc_text or formatter.formatException(record.exc_info)
            prepared.exc_info = None
        return prepared

    def flush_and_stop(self) -> None:
        """Write everything queued, then stop the thread (at exit; idempotent)."""
        if self._running:
            self._running = False
            self._listener.stop()
        # As logging.shutdown does: at exit the stream may already be closed (a test runner's).
        with contextlib.suppress(OSError, ValueError):
            self.target.flush()

    def close(self) -> None:
        self.flush_and_stop()
        super().close()
