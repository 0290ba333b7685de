"""The usage writer thread's loop: what is pending, who waits for it, when to write it.

Drafts are taken every tick (half the flush interval; at once when someone waits), journalled
as soon as the thread takes them (``usage_journal``), before any database work, and committed in batches of ``batch_size`` at most every ``flush_interval`` (at once when
someone waits: a flush, the shutdown). A database outage delays records instead of dropping
them (``usage_write_backoff``): memory holds at most ``max_pending`` drafts, the rest wait in
order in the journal's spill file. A batch refused on its data is bisected
(``refused_drafts``).
"""

from __future__ import annotations

import logging
import queue
import threading
import time
from dataclasses import dataclass, field

from django.db import connections

from foundation.paced_connection_check import PacedConnectionCheck
from usage import request_metrics as metrics
from usage.dead_writer_replay import replay_dead_writers
from usage.refused_drafts import RefusedDrafts
from usage.usage_dead_letter import UsageDeadLetter
from usage.usage_inflight_journal import inflight_journal
from usage.usage_journal import UsageJournal
from usage.usage_record_draft import UsageRecordDraft
from usage.usage_record_store import StoreBatch
from usage.usage_write_backoff import CONNECTION_ERRORS, WriteBackoff

logger = logging.getLogger(__name__)


@dataclass(eq=False)
class FlushRequest:
    """Set once every draft submitted before it is committed."""

    done: threading.Event = field(default_factory=threading.Event)


class Stop:
    """Commit what is pending, then end the thread."""


Item = UsageRecordDraft | FlushRequest | Stop


class FlushLoop:
    """The thread's state: what is pending, who waits for it, when to try again."""

    def __init__(
        self,
        inbox: queue.SimpleQueue[Item],
        *,
        urgent: threading.Event,
        store: StoreBatch,
        journal: UsageJournal | None,
        dead_letter: UsageDeadLetter,
        batch_size: int,
        flush_interval: float,
        shutdown_timeout: float,
        max_pending: int,
    ) -> None:
        self._inbox = inbox
        self._urgent = urgent
        # Drafts are taken on this tick, not one wake-up each (see usage_writer's loss model).
        self._tick = flush_interval / 2
        self._max_pending = max(max_pending, 1)
        self._store = store
        self._journal = journal
        self._batch_size = batch_size
        self._flush_interval = flush_interval
        self._shutdown_timeout = shutdown_timeout
        self._pending: list[UsageRecordDraft] = []
        self._waiters: list[FlushRequest] = []
        self._oldest: float | None = None
        self._backoff = WriteBackoff()
        self._connection_check = PacedConnectionCheck()
        self._refused = RefusedDrafts(store=store, dead_letter=dead_letter, journal=journal, backoff=self._backoff)
        self._stop_deadline: float | None = None

    def run(self) -> None:
        try:
            if self._journal is not None:
                replay_dead_writers(self._journal, self._accept)
            while not self._finished():
                self._receive(self._wait_seconds())
                self._sync_journal()
                if self._due():
                    self._write()
                if not self._pending and not self._spilled:
                    self._release_waiters()
                self._report_backlog()
        except Exception:
            logger.exception("the usage writer stopped unexpectedly; pending usage is in the journal")
        finally:
            self._close()

    @property
    def _spilled(self) -> int:
        return 0 if self._journal is None else self._journal.spilled

    def _report_backlog(self) -> None:
        age = 0.0 if self._oldest is None or not self._pending else time.monotonic() - self._oldest
        metrics.usage_writer_backlog(pending=len(self._pending), oldest_age_seconds=age)

    def _sync_journal(self) -> None:
        if self._journal is not None:
            try:
                self._journal.sync_if_due()
            except OSError:
                logger.exception("could not fsync the usage journal")

    def _wait_seconds(self) -> float | None:
        fsync_due = None if self._journal is None else self._journal.fsync_due_in()
        wait = self._wait_for_work()
        if fsync_due is None:
            return wait
        return fsync_due if wait is None else min(wait, fsync_due)

    def _wait_for_work(self) -> float | None:
        if not self._pending:
            return None if self._stop_deadline is None else 0.0
        assert self._oldest is not None
        due = max(self._oldest + self._flush_interval, self._backoff.retry_at)
        if self._waiters or self._stop_deadline is not None:
            due = self._backoff.retry_at
        return max(0.0, due - time.monotonic())

    def _receive(self, timeout: float | None) -> None:
        """Wait up to ``timeout`` (at most a tick) unless someone waits, then take what is queued."""
        wait = self._tick if timeout is None else min(timeout, self._tick)
        if wait > 0:
            self._urgent.wait(wait)
        self._urgent.clear()
        items: list[Item] = []
        try:
            while True:
                items.append(self._inbox.get_nowait())
        except queue.Empty:
            pass
        drafts = [item for item in items if isinstance(item, UsageRecordDraft)]
        if drafts:
            self._accept(drafts)
        self._waiters += [item for item in items if isinstance(item, FlushRequest)]
        if any(isinstance(item, Stop) for item in items) and self._stop_deadline is None:
            self._stop_deadline = time.monotonic() + self._shutdown_timeout

    def _accept(self, drafts: list[UsageRecordDraft], *, unspilled: bool = False) -> None:
        recorded = [(draft.request_id, draft.tokens.total_tokens) for draft in drafts]
        if self._journal is not None:
            if not unspilled:
                drafts = self._spill_beyond_memory(drafts)
            try:
                self._journal.append(drafts)
            except OSError:
                logger.exception("could not journal %s usage records", len(drafts))
        # Safe on disk as finished records: their in-flight entries are done with.
        inflight_journal.recorded(recorded)
        if not drafts:
            return
        if not self._pending:
            self._oldest = time.monotonic()
        self._pending += drafts

    def _spill_beyond_memory(self, drafts: list[UsageRecordDraft]) -> list[UsageRecordDraft]:
        """Keep at most ``max_pending`` drafts in memory; later ones wait on disk, in order."""
        assert self._journal is not None
        room = 0 if self._journal.spilled else max(self._max_pending - len(self._pending), 0)
        if len(drafts) <= room:
            return drafts
        try:
            self._journal.spill(drafts[room:])
        except OSError:
            logger.exception("could not spill %s usage records to disk; they are kept in memory", len(drafts) - room)
            return drafts
        return drafts[:room]

    def _refill(self) -> None:
        """Take spilled drafts back into memory as room frees up."""
        if not self._spilled:
            return
        assert self._journal is not None
        try:
            drafts = self._journal.unspill(self._max_pending - len(self._pending))
        except (OSError, ValueError) as error:
            logger.error("could not read spilled usage records back (%s); they stay on disk", error)
            return
        self._accept(drafts, unspilled=True)

    def _due(self) -> bool:
        if not self._pending or time.monotonic() < self._backoff.retry_at:
            return False
        if self._waiters or self._stop_deadline is not None or len(self._pending) >= self._batch_size:
            return True
        assert self._oldest is not None
        return time.monotonic() - self._oldest >= self._flush_interval

    def _write(self) -> None:
        """Commit everything pending, batch by batch; on a connection failure keep the rest
        and back off, on a data failure set the bad drafts aside and go on."""
        while self._pending:
            batch = self._pending[: self._batch_size]
            try:
                self._connection_check.before_batch()
                self._store(batch)
            except CONNECTION_ERRORS as error:
                self._connection_check.failed()
                self._backoff.failed(error, pending=len(self._pending))
                return
            except Exception as error:  # noqa: BLE001 - refused data: the batch is bisected, lone refusals dead-lettered
                if not self._refused.isolate(self._pending, batch, error):
                    return
                continue
            del self._pending[: len(batch)]
        self._backoff.recovered()
        self._oldest = None
        self._committed()
        self._refill()

    def _committed(self) -> None:
        if self._journal is None:
            return
        try:
            self._journal.committed(self._pending)
        except OSError:
            logger.exception("could not compact the usage journal")

    def _release_waiters(self) -> None:
        for waiter in self._waiters:
            waiter.done.set()
        self._waiters.clear()

    def _finished(self) -> bool:
        if self._stop_deadline is None:
            return False
        if not self._pending:
            return True
        if time.monotonic() >= self._stop_deadline:
            logger.error(
                "shutting down with %s usage records uncommitted: they stay in the journal", len(self._pending)
            )
            return True
        return False

    def _close(self) -> None:
        if self._journal is not None:
            self._journal.close(empty=not self._pending)
        connections.close_all()
