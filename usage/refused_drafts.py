"""Poison records: a batch the database refuses on its data, not on its connection.

A batch that fails for any other reason than the connection (a ``DataError``, an
``IntegrityError``, any non-database exception of the store) would fail the same way on every
retry and stall all metering behind it. Such a batch is bisected until every good draft is
committed; a draft that still fails alone goes to the dead-letter file (``usage_dead_letter``),
is logged, and leaves memory and the journal.
"""

from __future__ import annotations

import logging

from django.db import close_old_connections

from usage import request_metrics as metrics
from usage.usage_dead_letter import UsageDeadLetter
from usage.usage_journal import UsageJournal
from usage.usage_record_draft import UsageRecordDraft
from usage.usage_record_store import StoreBatch
from usage.usage_write_backoff import CONNECTION_ERRORS, WriteBackoff

logger = logging.getLogger(__name__)


class RefusedDrafts:
    """Isolates the drafts the database refuses from the writer's ``pending`` list (whose head
    is the refused batch), dead-lettering them."""

    def __init__(
        self, *, store: StoreBatch, dead_letter: UsageDeadLetter, journal: UsageJournal | None, backoff: WriteBackoff
    ) -> None:
        self._store = store
        self._dead_letter = dead_letter
        self._journal = journal
        self._backoff = backoff

    def isolate(self, pending: list[UsageRecordDraft], batch: list[UsageRecordDraft], error: Exception) -> bool:
        """Bisect a batch that failed on its data: commit every part that goes through,
        dead-letter each draft that fails alone. False if the connection failed meanwhile
        (backing off) or a draft could not be dead-lettered (kept, backing off).

        Parts are tried in order (depth first, left half before right), so each part that is
        done with is the head of ``pending``."""
        parts: list[list[UsageRecordDraft]] = []
        if not self._refused(pending, batch, error, parts):
            return False
        while parts:
            part = parts.pop()
            try:
                close_old_connections()
                self._store(part)
            except CONNECTION_ERRORS as outage:
                self._backoff.failed(outage, pending=len(pending))
                return False
            except Exception as refusal:  # noqa: BLE001 - refused data: bisected further, or dead-lettered
                if not self._refused(pending, part, refusal, parts):
                    return False
                continue
            del pending[: len(part)]
        return True

    def _refused(
        self,
        pending: list[UsageRecordDraft],
        part: list[UsageRecordDraft],
        error: Exception,
        parts: list[list[UsageRecordDraft]],
    ) -> bool:
        """The database refused ``part``: queue its halves to try, or set a lone draft aside."""
        if len(part) == 1:
            return self._set_aside(pending, part[0], error)
        middle = len(part) // 2
        parts += [part[middle:], part[:middle]]
        return True

    def _set_aside(self, pending: list[UsageRecordDraft], draft: UsageRecordDraft, error: Exception) -> bool:
        """Move a draft the database refuses to the dead-letter file, out of memory and of
        the journal. Only its request id and the error class are logged: the message of a
        data error may quote the record's values."""
        try:
            self._dead_letter.append(draft)
        except OSError as unwritable:
            # Never lost: it stays pending (and journalled) and is tried again after a backoff.
            logger.exception("could not dead-letter usage record %s; it is kept", draft.request_id)
            self._backoff.failed(unwritable, pending=len(pending))
            return False
        metrics.usage_record_dead_lettered()
        logger.error(
            "usage record %s refused by the database (%s): moved to %s, not retried",
            draft.request_id,
            type(error).__name__,
            self._dead_letter.path,
        )
        assert pending[0] is draft
        del pending[0]
        if self._journal is not None:
            try:
                self._journal.keep_only(pending)
            except OSError:
                logger.exception("could not drop a dead-lettered record from the usage journal")
        return True
