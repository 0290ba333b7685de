"""When the usage writer tries a failed write again: backoff for an outage, not for contention.

A connection error (``OperationalError`` / ``InterfaceError``) is an outage: the batch is kept
and retried after an exponential backoff (0.1 s doubling, at most ``MAX_BACKOFF_SECONDS``).
SQLite allows one writer at a time: "database is locked" after the busy timeout is contention,
not an outage, and is retried after ``CONTENTION_RETRY_SECONDS`` without backing off further.
"""

from __future__ import annotations

import logging
import time

from django.db import InterfaceError, OperationalError, connections

logger = logging.getLogger(__name__)

MAX_BACKOFF_SECONDS = 5.0
CONTENTION_RETRY_SECONDS = 0.05

# Errors of the connection, not of the data: the whole batch is retried with backoff.
CONNECTION_ERRORS = (OperationalError, InterfaceError)


class WriteBackoff:
    def __init__(self) -> None:
        self.failures = 0
        self.retry_at = 0.0

    def failed(self, error: Exception, *, pending: int) -> None:
        """A write of ``pending`` kept records failed: when to try again."""
        if _is_contention(error):
            # Another writer holds SQLite's lock: it frees within a transaction, so retry soon
            # (an exponential backoff here left records seconds late behind a short lock).
            self.retry_at = time.monotonic() + CONTENTION_RETRY_SECONDS
            logger.info("usage write waits for the database lock; %s records kept", pending)
            return
        self.failures += 1
        backoff = min(MAX_BACKOFF_SECONDS, 0.1 * 2 ** (self.failures - 1))
        self.retry_at = time.monotonic() + backoff
        logger.warning(
            "usage write failed (%s: %s); %s records kept, retrying in %.1fs",
            type(error).__name__,
            error,
            pending,
            backoff,
        )
        # A broken connection is not reused: the next attempt reconnects.
        connections.close_all()

    def recovered(self) -> None:
        """Everything pending was committed."""
        if self.failures:
            logger.warning("usage writes recovered after %s failed attempts", self.failures)
        self.failures, self.retry_at = 0, 0.0


def _is_contention(error: Exception) -> bool:
    return isinstance(error, OperationalError) and "database is locked" in str(error)
