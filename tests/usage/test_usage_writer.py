"""The batching writer: non-blocking submit, batches committed in the background, nothing lost
to a database outage, a shutdown or a crash."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path

import pytest
from django.db import OperationalError, connections
from django.db.models import QuerySet

from tests.usage.usage_drafts import make_draft
from usage.models import UsageRecord, UsageRollup
from usage.usage_journal import UsageJournal, database_key
from usage.usage_record_draft import UsageRecordDraft
from usage.usage_record_store import store_usage_batch
from usage.usage_writer import UsageWriter

pytestmark = pytest.mark.django_db(transaction=True)


class FlakyStore:
    """The real store behind a database that is down for the first ``failures`` attempts."""

    def __init__(self, failures: int) -> None:
        self.failures = failures
        self.attempts = 0
        self.batches: list[int] = []

    def __call__(self, drafts: Sequence[UsageRecordDraft]) -> object:
        self.attempts += 1
        if self.attempts <= self.failures:
            raise OperationalError("connection refused")
        self.batches.append(len(drafts))
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


def _records() -> QuerySet[UsageRecord]:
    # Only this module's drafts: a live server of an earlier test may still be retrying a write.
    return UsageRecord.objects.filter(request_id__startswith="req_test")


def _rollup() -> UsageRollup:
    return UsageRollup.objects.get(tenant_name="acme")


def _request_ids() -> set[str]:
    return set(_records().values_list("request_id", flat=True))


def test_submitted_drafts_are_committed_in_the_background(make_writer: Callable[..., UsageWriter]) -> None:
    writer = make_writer()
    drafts = [make_draft() for _ in range(25)]
    for draft in drafts:
        writer.submit(draft)
    assert writer.flush(timeout=10)
    assert _request_ids() == {draft.request_id for draft in drafts}
    assert _rollup().requests == 25


def test_drafts_are_written_in_batches_not_one_by_one(make_writer: Callable[..., UsageWriter]) -> None:
    store = FlakyStore(failures=0)
    writer = make_writer(store=store, flush_interval=0.3, batch_size=10)
    for _ in range(25):
        writer.submit(make_draft())
    assert writer.flush(timeout=10)
    assert sum(store.batches) == 25
    assert len(store.batches) <= 4


def test_a_database_outage_delays_records_without_losing_or_doubling_any(
    make_writer: Callable[..., UsageWriter],
) -> None:
    store = FlakyStore(failures=4)
    writer = make_writer(store=store, flush_interval=0.05)
    drafts = [make_draft() for _ in range(10)]
    for draft in drafts:
        writer.submit(draft)
    assert writer.flush(timeout=15)
    assert store.attempts > 4
    assert _request_ids() == {draft.request_id for draft in drafts}
    assert _rollup().requests == 10


def test_stopping_commits_what_is_pending_before_the_interval_is_up(
    make_writer: Callable[..., UsageWriter],
) -> None:
    writer = make_writer(flush_interval=3600)
    drafts = [make_draft() for _ in range(5)]
    for draft in drafts:
        writer.submit(draft)
    assert writer.stop(timeout=10)
    assert _request_ids() == {draft.request_id for draft in drafts}


def test_a_journal_left_by_a_crashed_process_is_replayed_at_start(
    make_writer: Callable[..., UsageWriter], tmp_path: Path
) -> None:
    drafts = [make_draft() for _ in range(3)]
    crashed = UsageJournal(tmp_path, database_key(connections["default"].settings_dict))
    crashed.open()
    crashed.append(drafts)
    crashed.close(empty=False)
    writer = make_writer()
    writer.start()
    deadline = time.monotonic() + 10
    while _request_ids() != {draft.request_id for draft in drafts} and time.monotonic() < deadline:
        time.sleep(0.05)
    assert _request_ids() == {draft.request_id for draft in drafts}
    assert not crashed.path.exists()


def test_replaying_drafts_that_were_already_committed_counts_them_once(
    make_writer: Callable[..., UsageWriter], tmp_path: Path
) -> None:
    draft = make_draft()
    store_usage_batch([draft])
    crashed = UsageJournal(tmp_path, database_key(connections["default"].settings_dict))
    crashed.open()
    crashed.append([draft])
    crashed.close(empty=False)
    writer = make_writer()
    writer.submit(make_draft())
    assert writer.flush(timeout=10)
    assert _records().count() == 2
    assert _rollup().requests == 2


def test_the_journal_is_emptied_once_everything_is_committed(
    make_writer: Callable[..., UsageWriter], tmp_path: Path
) -> None:
    writer = make_writer()
    writer.submit(make_draft())
    assert writer.flush(timeout=10)
    [journal] = tmp_path.glob("*.jsonl")
    assert journal.read_text() == ""


def test_records_still_uncommitted_at_shutdown_stay_in_the_journal(
    make_writer: Callable[..., UsageWriter], tmp_path: Path
) -> None:
    writer = make_writer(store=FlakyStore(failures=10_000), shutdown_timeout=0.5)
    draft = make_draft()
    writer.submit(draft)
    assert writer.stop(timeout=10)
    [journal] = tmp_path.glob("*.jsonl")
    assert draft.request_id in journal.read_text()
    assert not _records().exists()


def test_submit_returns_while_the_database_is_stuck(make_writer: Callable[..., UsageWriter]) -> None:
    released = threading.Event()

    def stuck_store(drafts: Sequence[UsageRecordDraft]) -> object:
        released.wait(10)
        return store_usage_batch(drafts)

    writer = make_writer(store=stuck_store, flush_interval=0.0)
    writer.submit(make_draft())
    started = time.monotonic()
    for _ in range(200):
        writer.submit(make_draft())
    elapsed = time.monotonic() - started
    released.set()
    assert elapsed < 0.5
    assert writer.flush(timeout=10)
    assert _records().count() == 201
