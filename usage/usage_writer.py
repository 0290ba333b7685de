"""The batching usage writer: ``submit`` never waits, a background thread commits in batches.

Why a thread, not an asyncio task: every write is synchronous ORM work that must stay off the
event loop anyway; a thread owns one persistent database connection, does not care which loop
(Daphne's, uvicorn's, a test's, none in a management command) submitted the drafts, and can
still drain the queue in ``atexit`` after the server's loop has stopped. It is a daemon thread
so it never blocks exit by itself; the ``atexit`` hook stops it properly: commit everything
pending, retrying for up to ``shutdown_timeout`` seconds.

Loss model: a draft is appended to the crash journal (``usage_journal``; fsynced within
``journal_fsync.FSYNC_INTERVAL_SECONDS``) as soon as the thread takes it, before any database
work; the thread takes what was submitted on its tick (half the flush interval), not per draft:
a wake-up per request cost more than the request's own record. A request is in the in-flight
journal (``usage_inflight_journal``) from admission on, and its finished draft with it once its
admission is settled (``UsageMeter.admission_settled``), so a draft still waiting for the tick
is on disk there; the entry is closed once its draft is in the crash journal, and a dead worker's open entries become
``interrupted`` records when the next writer starts (``dead_writer_replay``). A database
outage delays records (``usage_write_backoff``) instead of dropping them: memory holds
at most ``max_pending`` drafts, the rest wait in order in the journal's spill file. A crash, or
an outage that outlasts the shutdown, leaves them on disk for the next writer to replay. A
record the database refuses on its data is dead-lettered (``refused_drafts``).

The thread's loop is ``usage_flush_loop``; this module starts, feeds, flushes and stops it.
"""

from __future__ import annotations

import atexit
import logging
import queue
import threading
from pathlib import Path

from django.conf import settings
from django.db import connections

from usage.usage_dead_letter import UsageDeadLetter
from usage.usage_flush_loop import FlushLoop, FlushRequest, Item, Stop
from usage.usage_inflight_journal import inflight_journal
from usage.usage_journal import UsageJournal, database_key
from usage.usage_record_draft import UsageRecordDraft
from usage.usage_record_store import StoreBatch, store_usage_batch

logger = logging.getLogger(__name__)

BATCH_SIZE = 500
FLUSH_INTERVAL_SECONDS = 0.2
SHUTDOWN_TIMEOUT_SECONDS = 20.0


class UsageWriter:
    def __init__(
        self,
        *,
        store: StoreBatch = store_usage_batch,
        journal_dir: Path | None = None,
        batch_size: int = BATCH_SIZE,
        flush_interval: float = FLUSH_INTERVAL_SECONDS,
        shutdown_timeout: float = SHUTDOWN_TIMEOUT_SECONDS,
        max_pending: int | None = None,
    ) -> None:
        self._store = store
        self._max_pending = max_pending
        self._journal_dir = journal_dir
        self._batch_size = batch_size
        self._flush_interval = flush_interval
        self.shutdown_timeout = shutdown_timeout
        self._queue: queue.SimpleQueue[Item] = queue.SimpleQueue()
        # Wakes the thread before its tick: someone waits (a flush, the shutdown).
        self._urgent = threading.Event()
        self._lock = threading.Lock()
        self._thread: threading.Thread | None = None
        self._atexit_registered = False

    def submit(self, draft: UsageRecordDraft) -> None:
        """Hand a finished request's usage over. Never blocks, never raises on the DB's account."""
        self.start()
        self._queue.put(draft)

    def start(self) -> None:
        """Start the flusher (and replay orphaned journals) if it is not running."""
        with self._lock:
            if self._thread is not None and self._thread.is_alive():
                return
            directory = self._journal_dir or Path(settings.VAR_DIR) / "usage-journal"
            database = database_key(connections["default"].settings_dict)
            _start_inflight_journal(directory / "inflight", database)
            loop = FlushLoop(
                self._queue,
                urgent=self._urgent,
                store=self._store,
                journal=_open_journal(directory, database, fsync=settings.OARLOCK_USAGE_JOURNAL_FSYNC),
                dead_letter=UsageDeadLetter(directory, database),
                batch_size=self._batch_size,
                flush_interval=self._flush_interval,
                shutdown_timeout=self.shutdown_timeout,
                max_pending=self._max_pending or settings.OARLOCK_USAGE_MAX_PENDING,
            )
            self._thread = threading.Thread(target=loop.run, name="usage-writer", daemon=True)
            self._thread.start()
            if not self._atexit_registered:
                atexit.register(self.stop)
                self._atexit_registered = True

    def flush(self, timeout: float = 10.0) -> bool:
        """Wait until every draft submitted so far is committed; False on timeout."""
        if self._thread is None or not self._thread.is_alive():
            return self._queue.empty()
        request = FlushRequest()
        self._queue.put(request)
        self._urgent.set()
        return request.done.wait(timeout)

    def stop(self, timeout: float | None = None) -> bool:
        """Commit everything pending and end the thread; False if it had to give up."""
        with self._lock:
            thread, self._thread = self._thread, None
        if thread is None or not thread.is_alive():
            return True
        self._queue.put(Stop())
        self._urgent.set()
        thread.join(self.shutdown_timeout + 5.0 if timeout is None else timeout)
        inflight_journal.stop()
        return not thread.is_alive()


def _start_inflight_journal(directory: Path, database: str) -> None:
    try:
        inflight_journal.start(
            directory,
            database,
            checkpoint_seconds=settings.OARLOCK_USAGE_CHECKPOINT_SECONDS,
            fsync=settings.OARLOCK_USAGE_JOURNAL_FSYNC,
        )
    except OSError:
        logger.exception(
            "usage in-flight journal unavailable in %s: a killed worker loses its open requests", directory
        )


def _open_journal(directory: Path, database: str, *, fsync: bool) -> UsageJournal | None:
    journal = UsageJournal(directory, database, fsync=fsync)
    try:
        journal.open()
    except OSError:
        logger.exception("usage journal unavailable in %s: pending usage is kept in memory only", directory)
        return None
    return journal


# The process's writer: started by the first submit (or explicitly at server start).
usage_writer = UsageWriter()
