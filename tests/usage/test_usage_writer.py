"""The batching writer: non-blocking submit, batches committed in the background, nothing lost
to a database outage, a shutdown or a crash."""

from __future__ import annotations

import json
import logging
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path

import pytest
from django.db import DataError, OperationalError, connections
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
        self.sizes: list[int] = []
        self.batches: list[int] = []

    def __call__(self, drafts: Sequence[UsageRecordDraft]) -> object:
        self.attempts += 1
        self.sizes.append(len(drafts))
        if self.attempts <= self.failures:
            raise OperationalError("connection refused")
        self.batches.append(len(drafts))
        return store_usage_batch(drafts)


class PoisonStore:
    """The real store behind a database that refuses every batch holding one of ``poison``."""

    def __init__(self, *poison: str) -> None:
        self.poison = set(poison)

    def __call__(self, drafts: Sequence[UsageRecordDraft]) -> object:
        if self.poison & {draft.request_id for draft in drafts}:
            raise DataError("value out of range for type integer")
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


@pytest.mark.skipif(connections["default"].vendor != "postgresql", reason="PostgreSQL ends a connection")
def test_a_connection_the_database_ended_between_batches_costs_no_record(
    make_writer: Callable[..., UsageWriter],
) -> None:
    # The writer checks its connection at a pace, not before each batch: a connection that
    # PostgreSQL ended meanwhile fails one attempt, and the retry reconnects.
    writer = make_writer(flush_interval=0.05)
    first = make_draft()
    writer.submit(first)
    assert writer.flush(timeout=10)
    with connections["default"].cursor() as cursor:
        cursor.execute(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
            "WHERE datname = current_database() AND pid <> pg_backend_pid()"
        )
    later = [make_draft() for _ in range(5)]
    for draft in later:
        writer.submit(draft)
    assert writer.flush(timeout=15)
    assert _request_ids() == {draft.request_id for draft in [first, *later]}
    assert _rollup().requests == 6


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


def _journals(directory: Path) -> list[Path]:
    """The crash journals in ``directory``, not the dead-letter file next to them."""
    return sorted(directory.glob(f"{database_key(connections['default'].settings_dict)}-*.jsonl"))


def _dead_letters(directory: Path) -> list[UsageRecordDraft]:
    lines: list[UsageRecordDraft] = []
    for path in directory.glob("dead-letter-*.jsonl"):
        lines += [UsageRecordDraft.from_json(json.loads(line)) for line in path.read_text().splitlines()]
    return lines


def test_a_record_the_database_refuses_is_dead_lettered_and_the_rest_of_its_batch_committed_once(
    make_writer: Callable[..., UsageWriter], tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    drafts = [make_draft() for _ in range(10)]
    poison = drafts[6]
    writer = make_writer(store=PoisonStore(poison.request_id), flush_interval=3600)
    with caplog.at_level(logging.ERROR, logger="usage.refused_drafts"):
        for draft in drafts:
            writer.submit(draft)
        assert writer.flush(timeout=10)
    assert _request_ids() == {draft.request_id for draft in drafts} - {poison.request_id}
    assert _rollup().requests == 9
    assert _dead_letters(tmp_path) == [poison]
    [journal] = _journals(tmp_path)
    assert journal.read_text() == ""
    [refused] = [record for record in caplog.records if record.levelno == logging.ERROR]
    assert poison.request_id in refused.getMessage()
    assert "DataError" in refused.getMessage()
    assert "out of range" not in refused.getMessage()


def test_the_writer_keeps_writing_after_dead_lettering_a_record(
    make_writer: Callable[..., UsageWriter], tmp_path: Path
) -> None:
    poison = make_draft()
    writer = make_writer(store=PoisonStore(poison.request_id), flush_interval=3600)
    writer.submit(poison)
    assert writer.flush(timeout=10)
    later = [make_draft() for _ in range(3)]
    for draft in later:
        writer.submit(draft)
    assert writer.flush(timeout=10)
    assert _request_ids() == {draft.request_id for draft in later}
    assert _dead_letters(tmp_path) == [poison]


def test_a_dead_lettered_record_leaves_the_journal_while_the_rest_is_still_pending(
    make_writer: Callable[..., UsageWriter], tmp_path: Path
) -> None:
    poison, good = make_draft(), make_draft()
    refuse = PoisonStore(poison.request_id)
    journal_seen: list[str] = []

    def store(drafts: Sequence[UsageRecordDraft]) -> object:
        # What a crash at this moment would leave for the next writer to replay.
        journal_seen.append("".join(path.read_text() for path in _journals(tmp_path)))
        return refuse(drafts)

    writer = make_writer(store=store, flush_interval=3600)
    writer.submit(poison)
    writer.submit(good)
    assert writer.flush(timeout=10)
    # Whole batch, then the poison alone (refused, set aside), then the good one alone.
    assert len(journal_seen) == 3
    assert poison.request_id not in journal_seen[2]
    assert good.request_id in journal_seen[2]
    assert _request_ids() == {good.request_id}


def test_an_outage_still_retries_the_whole_batch_and_dead_letters_nothing(
    make_writer: Callable[..., UsageWriter], tmp_path: Path
) -> None:
    store = FlakyStore(failures=3)
    writer = make_writer(store=store, flush_interval=3600)
    drafts = [make_draft() for _ in range(10)]
    for draft in drafts:
        writer.submit(draft)
    assert writer.flush(timeout=15)
    assert store.sizes == [10, 10, 10, 10]
    assert _request_ids() == {draft.request_id for draft in drafts}
    assert _dead_letters(tmp_path) == []


def test_an_outage_while_a_refused_batch_is_split_keeps_the_rest_for_the_retry(
    make_writer: Callable[..., UsageWriter], tmp_path: Path
) -> None:
    drafts = [make_draft() for _ in range(4)]
    poison = drafts[0]
    refuse = PoisonStore(poison.request_id)
    calls: list[int] = []

    def store(batch: Sequence[UsageRecordDraft]) -> object:
        calls.append(len(batch))
        if len(calls) == 2:  # the first half, just after the whole batch was refused
            raise OperationalError("connection refused")
        return refuse(batch)

    writer = make_writer(store=store, flush_interval=3600)
    for draft in drafts:
        writer.submit(draft)
    assert writer.flush(timeout=10)
    assert _request_ids() == {draft.request_id for draft in drafts[1:]}
    assert _rollup().requests == 3
    assert _dead_letters(tmp_path) == [poison]
