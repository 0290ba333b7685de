"""The in-flight journal on disk: what a killed worker leaves for the next start to bill."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from usage import usage_inflight_journal
from usage.usage_inflight_journal import InFlightJournal, read_open_entries


def _counters() -> list[int]:
    return [0, 0, 0, 0]


@pytest.fixture
def journal(tmp_path: Path) -> Iterator[InFlightJournal]:
    journal = InFlightJournal()
    journal.start(tmp_path, "db", checkpoint_seconds=60.0, fsync=False)
    yield journal
    journal.stop(keep_open_entries=False)


def test_an_admitted_request_is_on_disk_when_the_call_returns(journal: InFlightJournal) -> None:
    # Written by the calling thread, not queued for another: a worker SIGKILLed right after
    # admission still leaves the entry for the next start.
    journal.opened("req_a", {"endpoint": "chat.completions", "admissions": []}, _counters)
    assert journal.path is not None
    assert [entry.request_id for entry in read_open_entries(journal.path)] == ["req_a"]
    journal.opened("req_a", {"model": "m"}, _counters)
    (entry,) = read_open_entries(journal.path)
    assert entry.fields["model"] == "m"
    journal.recorded([("req_a", 12)])
    assert read_open_entries(journal.path) == []


def test_compaction_keeps_exactly_the_open_requests(journal: InFlightJournal, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(usage_inflight_journal, "COMPACT_BYTES", 16384)
    assert journal.path is not None
    for number in range(200):
        journal.opened(f"req_{number}", {"endpoint": "responses", "admissions": [], "pad": "x" * 40}, _counters)
        if number % 10:
            journal.recorded([(f"req_{number}", number)])
    # The journal's thread rewrites the file with the open entries once it passed the size.
    deadline = time.monotonic() + 5
    while journal.path.stat().st_size >= 16384 and time.monotonic() < deadline:
        time.sleep(0.02)
    assert journal.path.stat().st_size < 16384
    # Lines written after the swap land in the new file.
    journal.opened("req_late", {"endpoint": "responses", "admissions": []}, _counters)
    journal.recorded([("req_0", 0)])

    open_ids = sorted(entry.request_id for entry in read_open_entries(journal.path))
    assert open_ids == sorted([f"req_{number}" for number in range(10, 200, 10)] + ["req_late"])


def test_a_repeated_admission_journals_only_what_changed(journal: InFlightJournal) -> None:
    # Each admission step journals the request again with all its fields: the file gets the
    # changes alone, and reading it back still gives every field.
    fields = {"endpoint": "chat.completions", "model": "m", "prompt_estimate": None, "admissions": [{"a": 1}]}
    journal.opened("req_a", fields, _counters)
    assert journal.path is not None
    size = journal.path.stat().st_size
    journal.opened("req_a", dict(fields), _counters)
    assert journal.path.stat().st_size == size
    journal.opened("req_a", {**fields, "prompt_estimate": 9, "admissions": [{"a": 1}, {"b": 2}]}, _counters)
    update = journal.path.read_text().splitlines()[-1]
    assert '"endpoint"' not in update and '"prompt_estimate":9' in update
    (entry,) = read_open_entries(journal.path)
    assert entry.fields == {**fields, "prompt_estimate": 9, "admissions": [{"a": 1}, {"b": 2}]}
