"""The crash journal: a dead writer's drafts are adopted once; a live writer's never."""

from __future__ import annotations

from pathlib import Path

from tests.usage.usage_drafts import make_draft
from usage.usage_journal import UsageJournal, database_key

DATABASE = database_key({"ENGINE": "sqlite3", "NAME": "/tmp/a.sqlite3"})


def _dead_journal(directory: Path, *drafts: object, database: str = DATABASE) -> UsageJournal:
    journal = UsageJournal(directory, database)
    journal.open()
    journal.append(drafts)  # type: ignore[arg-type]
    # What a crash leaves: the file with its lines, and the lock released by the kernel.
    journal.close(empty=False)
    return journal


def test_a_dead_writers_drafts_are_adopted_in_order(tmp_path: Path) -> None:
    drafts = [make_draft(), make_draft()]
    _dead_journal(tmp_path, *drafts)
    adopter = UsageJournal(tmp_path, DATABASE)
    adopter.open()
    adopted, orphans = adopter.adopt_orphans()
    assert adopted == drafts
    adopter.forget(orphans)
    assert adopter.adopt_orphans() == ([], [])
    assert sorted(path.name for path in tmp_path.iterdir()) == sorted(
        [adopter.path.name, adopter.path.with_suffix(".lock").name]
    )


def test_a_live_writers_journal_is_left_alone(tmp_path: Path) -> None:
    live = UsageJournal(tmp_path, DATABASE)
    live.open()
    live.append([make_draft()])
    other = UsageJournal(tmp_path, DATABASE)
    other.open()
    assert other.adopt_orphans() == ([], [])


def test_a_journal_of_another_database_is_not_replayed_here(tmp_path: Path) -> None:
    _dead_journal(tmp_path, make_draft(), database=database_key({"ENGINE": "sqlite3", "NAME": "/tmp/b"}))
    adopter = UsageJournal(tmp_path, DATABASE)
    adopter.open()
    assert adopter.adopt_orphans() == ([], [])


def test_a_line_cut_short_by_a_crash_is_skipped(tmp_path: Path) -> None:
    complete = make_draft()
    dead = _dead_journal(tmp_path, complete)
    with dead.path.open("a") as journal:
        journal.write('{"request_id": "req_cut", "endpo')
    adopter = UsageJournal(tmp_path, DATABASE)
    adopter.open()
    assert adopter.adopt_orphans()[0] == [complete]


def test_committing_everything_empties_the_journal(tmp_path: Path) -> None:
    journal = UsageJournal(tmp_path, DATABASE)
    journal.open()
    journal.append([make_draft(), make_draft()])
    journal.committed([])
    assert journal.path.read_text() == ""
    journal.append([make_draft()])
    assert journal.path.read_text().count("\n") == 1


def test_a_cleanly_closed_empty_journal_leaves_no_files(tmp_path: Path) -> None:
    journal = UsageJournal(tmp_path, DATABASE)
    journal.open()
    journal.close(empty=True)
    assert list(tmp_path.iterdir()) == []
