"""The batching usage writer: ``submit`` never waits, a background thread commits in batches.

Why a thread, not an asyncio task: every write is synchronous ORM work that must stay off the
event loop anyway; a thread owns one persistent database connection, does not care which loop
(Daphne's, uvicorn's, a test's, none in a management command) submitted the drafts, and can
still drain the queue in ``atexit`` after the server's loop has stopped. It is a daemon thread
so it never blocks exit by itself; the ``atexit`` hook stops it properly: commit everything
pending, retrying for up to ``shutdown_timeout`` seconds.

Loss model: a draft is appended to the crash journal (``usage_journal``; fsynced within
``journal_fsync.FSYNC_INTERVAL_SECONDS``) as soon as the thread takes it, before any database work. A request
still running is in the in-flight journal (``usage_inflight_journal``) from admission on; its
entry is closed once its draft is in the crash journal, and a dead worker's open entries become
``interrupted`` records when the next writer starts (``interrupted_requests``). A database
outage delays records (retries with exponential backoff) instead of dropping them: memory holds
at most ``max_pending`` drafts, the rest wait in order in the journal's spill file. A crash, or
an outage that outlasts the shutdown, leaves them on disk for the next writer to replay.

SQLite allows one writer at a time: "database is locked" after the busy timeout is contention,
not an outage, and is retried after ``CONTENTION_RETRY_SECONDS`` without backing off further.

Poison records: a batch that fails for any other reason than the connection (a ``DataError``,
an ``IntegrityError``, any non-database exception of the store) would fail the same way on
every retry and stall all metering behind it. Such a batch is bisected until every good draft
is committed; a draft that still fails alone goes to the dead-letter file
(``usage_dead_letter``), is logged, and leaves memory and the journal.
"""

from __future__ import annotations

import atexit
import logging
import queue
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from django.conf import settings
from django.db import InterfaceError, OperationalError, close_old_connections, connections

from accounts.abandoned_admission import settle_abandoned_admissions
from usage import request_metrics as metrics
from usage.interrupted_requests import adopt_interrupted_requests
from usage.usage_dead_letter import UsageDeadLetter
from usage.usage_inflight_journal import inflight_journal
from usage.usage_journal import UsageJournal, database_key
from usage.usage_record_draft import UsageRecordDraft
from usage.usage_record_store import store_usage_batch

logger = logging.getLogger(__name__)

BATCH_SIZE = 500
FLUSH_INTERVAL_SECONDS = 0.2
MAX_BACKOFF_SECONDS = 5.0
SHUTDOWN_TIMEOUT_SECONDS = 20.0
CONTENTION_RETRY_SECONDS = 0.05

StoreBatch = Callable[[Sequence[UsageRecordDraft]], Any]

# Errors of the connection, not of the data: the whole batch is retried with backoff.
CONNECTION_ERRORS = (OperationalError, InterfaceError)


@dataclass(eq=False)
class _FlushRequest:
    """Set once every draft submitted before it is committed."""

    done: threading.Event = field(default_factory=threading.Event)


class _Stop:
    """Commit what is pending, then end the thread."""


_Item = UsageRecordDraft | _FlushRequest | _Stop


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
        self._queue: queue.SimpleQueue[_Item] = queue.SimpleQueue()
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
            loop = _FlushLoop(
                self._queue,
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
        request = _FlushRequest()
        self._queue.put(request)
        return request.done.wait(timeout)

    def stop(self, timeout: float | None = None) -> bool:
        """Commit everything pending and end the thread; False if it had to give up."""
        with self._lock:
            thread, self._thread = self._thread, None
        if thread is None or not thread.is_alive():
            return True
        self._queue.put(_Stop())
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


class _FlushLoop:
    """The thread's state: what is pending, who waits for it, when to try again."""

    def __init__(
        self,
        inbox: queue.SimpleQueue[_Item],
        *,
        store: StoreBatch,
        journal: UsageJournal | None,
        dead_letter: UsageDeadLetter,
        batch_size: int,
        flush_interval: float,
        shutdown_timeout: float,
        max_pending: int,
    ) -> None:
        self._inbox = inbox
        self._max_pending = max(max_pending, 1)
        self._store = store
        self._journal = journal
        self._dead_letter = dead_letter
        self._batch_size = batch_size
        self._flush_interval = flush_interval
        self._shutdown_timeout = shutdown_timeout
        self._pending: list[UsageRecordDraft] = []
        self._waiters: list[_FlushRequest] = []
        self._oldest: float | None = None
        self._failures = 0
        self._retry_at = 0.0
        self._stop_deadline: float | None = None

    def run(self) -> None:
        try:
            self._adopt_orphans()
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

    def _adopt_orphans(self) -> None:
        """Replay dead writers' journals, then write their open requests as interrupted."""
        if self._journal is None:
            return
        drafts, orphans = self._journal.adopt_orphans()
        if drafts:
            logger.warning("replaying %s usage records from a previous process's journal", len(drafts))
            self._accept(drafts)
        self._journal.forget(orphans)
        interrupted = adopt_interrupted_requests(
            self._journal.path.parent / "inflight",
            self._journal.database,
            finished={draft.request_id: draft.tokens.total_tokens for draft in drafts},
        )
        if interrupted.drafts:
            logger.warning("writing %s interrupted usage records left open by a dead worker", len(interrupted.drafts))
            self._accept(interrupted.drafts)
        # Their drafts are in our journal now: settling first could not be undone by a crash.
        settle_abandoned_admissions(interrupted.admissions)
        self._journal.forget(interrupted.orphans)

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
        due = max(self._oldest + self._flush_interval, self._retry_at)
        if self._waiters or self._stop_deadline is not None:
            due = self._retry_at
        return max(0.0, due - time.monotonic())

    def _receive(self, timeout: float | None) -> None:
        """Block up to ``timeout`` for the first item, then take whatever else is queued."""
        items: list[_Item] = []
        try:
            items.append(self._inbox.get(timeout=timeout))
            while True:
                items.append(self._inbox.get_nowait())
        except queue.Empty:
            pass
        drafts = [item for item in items if isinstance(item, UsageRecordDraft)]
        if drafts:
            self._accept(drafts)
        self._waiters += [item for item in items if isinstance(item, _FlushRequest)]
        if any(isinstance(item, _Stop) for item in items) and self._stop_deadline is None:
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
        if not self._pending or time.monotonic() < self._retry_at:
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
                close_old_connections()
                self._store(batch)
            except CONNECTION_ERRORS as error:
                self._failed(error)
                return
            except Exception as error:  # noqa: BLE001 - refused data: the batch is bisected, lone refusals dead-lettered
                if not self._isolate(batch, error):
                    return
                continue
            del self._pending[: len(batch)]
        if self._failures:
            logger.warning("usage writes recovered after %s failed attempts", self._failures)
        self._failures, self._retry_at, self._oldest = 0, 0.0, None
        self._committed()
        self._refill()

    def _isolate(self, batch: list[UsageRecordDraft], error: Exception) -> bool:
        """Bisect a batch that failed on its data: commit every part that goes through,
        dead-letter each draft that fails alone. False if the connection failed meanwhile
        (backing off) or a draft could not be dead-lettered (kept, backing off).

        Parts are tried in order (depth first, left half before right), so each part that is
        done with is the head of ``_pending``."""
        parts: list[list[UsageRecordDraft]] = []
        if not self._refused(batch, error, parts):
            return False
        while parts:
            part = parts.pop()
            try:
                close_old_connections()
                self._store(part)
            except CONNECTION_ERRORS as outage:
                self._failed(outage)
                return False
            except Exception as refusal:  # noqa: BLE001 - refused data: bisected further, or dead-lettered
                if not self._refused(part, refusal, parts):
                    return False
                continue
            del self._pending[: len(part)]
        return True

    def _refused(self, part: list[UsageRecordDraft], error: Exception, parts: list[list[UsageRecordDraft]]) -> bool:
        """The database refused ``part``: queue its halves to try, or set a lone draft aside."""
        if len(part) == 1:
            return self._set_aside(part[0], error)
        middle = len(part) // 2
        parts += [part[middle:], part[:middle]]
        return True

    def _set_aside(self, draft: UsageRecordDraft, error: Exception) -> bool:
        """Move a draft the database refuses to the dead-letter file, out of memory and of
        the journal. Only its request id and the error class are logged: the message of a
        data error may quote the record's values."""
        try:
            self._dead_letter.append(draft)
        except OSError as unwritable:
            # Never lost: it stays pending (and journalled) and is tried again after a backoff.
            logger.exception("could not dead-letter usage record %s; it is kept", draft.request_id)
            self._failed(unwritable)
            return False
        metrics.usage_record_dead_lettered()
        logger.error(
            "usage record %s refused by the database (%s): moved to %s, not retried",
            draft.request_id,
            type(error).__name__,
            self._dead_letter.path,
        )
        assert self._pending[0] is draft
        del self._pending[0]
        if self._journal is not None:
            try:
                self._journal.keep_only(self._pending)
            except OSError:
                logger.exception("could not drop a dead-lettered record from the usage journal")
        return True

    def _failed(self, error: Exception) -> None:
        if _is_contention(error):
            # Another writer holds SQLite's lock: it frees within a transaction, so retry soon
            # (an exponential backoff here left records seconds late behind a short lock).
            self._retry_at = time.monotonic() + CONTENTION_RETRY_SECONDS
            logger.info("usage write waits for the database lock; %s records kept", len(self._pending))
            return
        self._failures += 1
        backoff = min(MAX_BACKOFF_SECONDS, 0.1 * 2 ** (self._failures - 1))
        self._retry_at = time.monotonic() + backoff
        logger.warning(
            "usage write failed (%s: %s); %s records kept, retrying in %.1fs",
            type(error).__name__,
            error,
            len(self._pending),
            backoff,
        )
        # A broken connection is not reused: the next attempt reconnects.
        connections.close_all()

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


def _is_contention(error: Exception) -> bool:
    return isinstance(error, OperationalError) and "database is locked" in str(error)


# The process's writer: started by the first submit (or explicitly at server start).
usage_writer = UsageWriter()
