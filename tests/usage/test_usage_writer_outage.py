"""A long database outage holds usage records on disk, not in memory; SQLite lock contention
delays a record by milliseconds, not by an exponential backoff."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path

import pytest
from django.db import OperationalError

from tests.usage.usage_drafts import make_draft
from usage.models import UsageRecord
from usage.usage_record_draft import UsageRecordDraft
from usage.usage_record_store import store_usage_batch
from usage.usage_writer import UsageWriter

pytestmark = pytest.mark.django_db(transaction=True)


class SwitchableStore:
    """The real store behind a database that is down until ``up`` is set; it remembers the
    largest batch it was offered (what the writer held in memory at once)."""

    def __init__(self, error: str = "connection refused") -> None:
        self.up = False
        self.error = error
        self.largest_batch = 0
        self.attempts = 0

    def __call__(self, drafts: Sequence[UsageRecordDraft]) -> object:
        self.attempts += 1
        self.largest_batch = max(self.largest_batch, len(drafts))
        if not self.up:
            raise OperationalError(self.error)
        return store_usage_batch(drafts)


@pytest.fixture
def make_writer(tmp_path: Path) -> Iterator[Callable[..., UsageWriter]]:
    writers: list[UsageWriter] = []

    def make(**options: object) -> UsageWriter:
        writer = UsageWriter(journal_dir=tmp_path, **options)  # type: ignore[arg-type]
        writers.append(writer)
        return writer

    yield make
    for writer in writers:
        writer.stop(timeout=10)


def test_an_outage_keeps_at_most_max_pending_records_in_memory_and_lands_all_in_order_once(
    make_writer: Callable[..., UsageWriter], tmp_path: Path
) -> None:
    store = SwitchableStore()
    writer = make_writer(store=store, max_pending=5, batch_size=100, flush_interval=0.01)
    drafts = [make_draft(request_id=f"req_test_spill_{index:03}") for index in range(40)]
    for draft in drafts:
        writer.submit(draft)
    assert not writer.flush(timeout=0.5)
    # Memory holds the first five; the other 35 wait in the spill file, in order.
    [spill] = tmp_path.glob("*.spill")
    assert len(spill.read_text().splitlines()) == 35
    store.up = True
    assert writer.flush(timeout=15)
    assert store.largest_batch <= 5
    stored = list(UsageRecord.objects.filter(request_id__startswith="req_test_spill_").order_by("pk"))
    assert [record.request_id for record in stored] == [draft.request_id for draft in drafts]
    assert not list(tmp_path.glob("*.spill"))


def test_a_dead_writer_s_spilled_records_are_replayed_by_the_next_one(
    make_writer: Callable[..., UsageWriter], tmp_path: Path
) -> None:
    down = SwitchableStore()
    first = make_writer(store=down, max_pending=3, flush_interval=0.01, shutdown_timeout=0.2)
    for index in range(10):
        first.submit(make_draft(request_id=f"req_test_replay_{index}"))
    assert not first.flush(timeout=0.3)
    first.stop(timeout=5)  # gives up: the journal and its spill stay behind

    second = make_writer()
    second.start()
    assert second.flush(timeout=15)
    assert UsageRecord.objects.filter(request_id__startswith="req_test_replay_").count() == 10


def test_sqlite_lock_contention_delays_a_record_by_a_retry_not_a_backoff(
    make_writer: Callable[..., UsageWriter],
) -> None:
    store = SwitchableStore(error="database is locked")
    writer = make_writer(store=store, flush_interval=0.01)
    writer.submit(make_draft(request_id="req_test_locked"))
    # Locked for a second: an exponential backoff would be at 0.1+0.2+0.4+0.8 s by now and
    # land the record up to 1.6 s after the lock is gone.
    time.sleep(1.0)
    store.up = True
    released = time.monotonic()
    assert writer.flush(timeout=5)
    assert time.monotonic() - released < 0.3
    assert store.attempts > 10
    assert UsageRecord.objects.filter(request_id="req_test_locked").exists()
