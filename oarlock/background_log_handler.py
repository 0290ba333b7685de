"""The console log handler, writing from a thread of its own.

Every request ends in one INFO line (the usage meter's summary). Formatted and written on the
event loop, that line cost ~5-7 % of a short request's time on the loop (bench/RESULTS.md):
the ``write`` to stderr is a system call, and the formatting is pure Python. Here the loop only
builds the record, runs the filters (the request id is read from the request's own context, so
it must be stamped on the calling thread) and queues it; a listener thread formats and writes.

It also keeps the event loop going when the console stalls (stderr is often a pipe to a log
collector, and a full pipe blocks its writer): the queue holds at most ``MAX_QUEUED_RECORDS``;
beyond that records are dropped and counted, and the next line written says how many.

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
import threading
from logging.handlers import QueueHandler, QueueListener
from typing import TextIO

MAX_QUEUED_RECORDS = 10_000


class _DropReportingHandler(logging.StreamHandler):  # type: ignore[type-arg]  # generic only in typeshed
    """The console writer: before the next record, how many were dropped since the last one."""

    def __init__(self, stream: TextIO | None, owner: BackgroundStreamHandler) -> None:
        super().__init__(stream)
        self._owner = owner

    def emit(self, record: logging.LogRecord) -> None:
        dropped = self._owner.take_dropped()
        if dropped:
            notice = logging.makeLogRecord(
                {
                    "name": __name__,
                    "levelno": logging.WARNING,
                    "levelname": "WARNING",
                    "msg": f"{dropped} log records were dropped: the console did not keep up",
                    "request_id": "-",
                }
            )
            super().emit(notice)
        super().emit(record)


class _Listener(QueueListener):
    def __init__(self, records: queue.Queue[logging.LogRecord], handler: logging.Handler) -> None:
        super().__init__(records, handler)
        self._records = records

    def enqueue_sentinel(self) -> None:
        # Blocking: a full queue must still take the stop signal (the thread drains meanwhile).
        self._records.put(self._sentinel)  # type: ignore[attr-defined]  # QueueListener's stop marker, not in typeshed


class BackgroundStreamHandler(QueueHandler):
    def __init__(self, stream: TextIO | None = None, *, max_queued: int = MAX_QUEUED_RECORDS) -> None:
        records: queue.Queue[logging.LogRecord] = queue.Queue(maxsize=max_queued)
        super().__init__(records)
        self._dropped = 0
        self._dropped_lock = threading.Lock()
        self.target = _DropReportingHandler(stream, self)
        self._listener = _Listener(records, self.target)
        self._listener.start()
        self._running = True
        atexit.register(self.flush_and_stop)

    def setFormatter(self, fmt: logging.Formatter | None) -> None:
        super().setFormatter(fmt)
        self.target.setFormatter(fmt)

    def enqueue(self, record: logging.LogRecord) -> None:
        try:
            self.queue.put_nowait(record)
        except queue.Full:
            with self._dropped_lock:
                self._dropped += 1

    def take_dropped(self) -> int:
        """Records dropped since the last call (the writer thread reports them)."""
        if not self._dropped:
            return 0
        with self._dropped_lock:
            dropped, self._dropped = self._dropped, 0
        return dropped

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
