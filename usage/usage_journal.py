"""The usage writer's crash journal: an append-only file of drafts not yet committed.

Each writer appends every draft it receives (one JSON line) before trying the database, and
truncates the file once everything pending is committed. A writer holds an exclusive ``flock``
on its ``.lock`` file for as long as it lives; the kernel drops that lock when the process
dies, however it dies. So a starting writer can tell an orphaned journal (lock free) from a
live one (lock held), adopt the orphan's drafts and replay them; the records' unique request
id makes a replay of drafts that were in fact committed a no-op.

Journals are named after the database they belong to, so a test run's journal is never
replayed into the production database or the other way round.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import json
import logging
import os
import secrets
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

from foundation.compact_json import ascii_compact_json
from foundation.errors import OarlockError
from usage.journal_fsync import PacedFsync
from usage.usage_record_draft import UsageRecordDraft

logger = logging.getLogger(__name__)

# Above this size a journal still holding uncommitted drafts is rewritten with just those.
COMPACT_BYTES = 8 * 1024 * 1024


def database_key(database: Mapping[str, Any]) -> str:
    """A short stable name for the database a journal belongs to."""
    identity = "|".join(str(database.get(part) or "") for part in ("ENGINE", "HOST", "PORT", "NAME"))
    return hashlib.sha256(identity.encode()).hexdigest()[:16]


@dataclass(frozen=True, slots=True)
class Orphan:
    """A dead writer's journal, locked by us until ``UsageJournal.forget`` deletes it."""

    journal_path: Path
    lock_path: Path
    lock_file: IO[bytes]


class UsageJournal:
    def __init__(self, directory: Path, database: str, *, fsync: bool = True) -> None:
        self._pacer = PacedFsync(enabled=fsync)
        self._directory = directory
        self._database = database
        self.database = database
        name = f"{database}-{os.getpid()}-{secrets.token_hex(4)}"
        self.path = directory / f"{name}.jsonl"
        self._lock_path = directory / f"{name}.lock"
        self.spill_path = directory / f"{name}.spill"
        self._lock_file: IO[bytes] | None = None
        self._file: IO[str] | None = None
        self._spilled = 0
        self._spill_offset = 0

    def open(self) -> None:
        self._directory.mkdir(parents=True, exist_ok=True)
        self._lock_file = self._lock_path.open("wb")
        fcntl.flock(self._lock_file, fcntl.LOCK_EX | fcntl.LOCK_NB)
        self._file = self.path.open("a", encoding="utf-8")

    def append(self, drafts: Iterable[UsageRecordDraft]) -> None:
        """Add ``drafts``. Flushed into the kernel: survives a crash of this process; with
        fsync on, also a crash of the machine once ``fsync_due_in`` has passed (the writer
        calls ``sync_if_due``: one fsync covers everything written in its interval)."""
        assert self._file is not None
        self._file.write("".join(journal_line(draft) for draft in drafts))
        self._file.flush()
        self._pacer.wrote(self._file.fileno())

    def fsync_due_in(self) -> float | None:
        return self._pacer.due_in()

    def sync_if_due(self) -> None:
        self._pacer.sync_if_due()

    @property
    def spilled(self) -> int:
        """Drafts held only on disk (beyond what the writer keeps in memory)."""
        return self._spilled

    def spill(self, drafts: Sequence[UsageRecordDraft]) -> None:
        """Keep ``drafts`` on disk only, after those already spilled (a long outage: memory
        holds a bounded head of the queue, the rest waits here in order)."""
        with self.spill_path.open("a", encoding="utf-8") as spill:
            spill.write("".join(journal_line(draft) for draft in drafts))
            spill.flush()
            os.fsync(spill.fileno())
        self._spilled += len(drafts)

    def unspill(self, limit: int) -> list[UsageRecordDraft]:
        """The next ``limit`` spilled drafts, in order. The caller journals them (``append``)
        first; a crash in between only repeats a draft, and repeats are dropped by id."""
        if limit <= 0 or not self._spilled:
            return []
        lines: list[str] = []
        with self.spill_path.open(encoding="utf-8") as spill:
            spill.seek(self._spill_offset)
            while len(lines) < limit:
                line = spill.readline()
                if not line:
                    break
                lines.append(line)
            self._spill_offset = spill.tell()
        self._spilled = max(self._spilled - len(lines), 0) if lines else 0
        if not self._spilled:
            self.spill_path.unlink(missing_ok=True)
            self._spill_offset = 0
        return [UsageRecordDraft.from_json(json.loads(line)) for line in lines]

    def committed(self, pending: Sequence[UsageRecordDraft]) -> None:
        """Everything but ``pending`` is in the database: forget it (at once when nothing is
        pending, else when the file has grown large)."""
        assert self._file is not None
        if not pending or self._file.tell() >= COMPACT_BYTES:
            self.keep_only(pending)

    def keep_only(self, pending: Sequence[UsageRecordDraft]) -> None:
        """Rewrite the journal to hold exactly ``pending``: every other draft is done with
        (committed, or moved to the dead-letter file), so a replay must not see it again."""
        assert self._file is not None
        if not pending:
            self._pacer.forget()
            self._file.truncate(0)
            self._file.seek(0)
            return
        # Write the survivors next to the journal, then swap: a crash mid-way loses nothing.
        temporary = self.path.with_suffix(".compact")
        temporary.write_text("".join(journal_line(draft) for draft in pending), encoding="utf-8")
        self._pacer.forget()
        self._file.close()
        os.replace(temporary, self.path)
        self._file = self.path.open("a", encoding="utf-8")
        self._pacer.wrote(self._file.fileno())

    def close(self, *, empty: bool) -> None:
        """Release the journal; an empty one is deleted, else left for the next writer."""
        if self._file is not None:
            self._pacer.sync()
            self._file.close()
            self._file = None
        if empty and not self._spilled:
            self.path.unlink(missing_ok=True)
            self.spill_path.unlink(missing_ok=True)
            self._lock_path.unlink(missing_ok=True)
        if self._lock_file is not None:
            self._lock_file.close()
            self._lock_file = None

    def adopt_orphans(self) -> tuple[list[UsageRecordDraft], list[Orphan]]:
        """Drafts of every dead writer's journal for this database, and the orphans to forget."""
        drafts: list[UsageRecordDraft] = []
        orphans: list[Orphan] = []
        for lock_path in sorted(self._directory.glob(f"{self._database}-*.lock")):
            if lock_path == self._lock_path:
                continue
            orphan = claim_orphan(lock_path)
            if orphan is None:
                continue
            drafts += _read_drafts(orphan.journal_path)
            drafts += _read_drafts(lock_path.with_suffix(".spill"))
            orphans.append(orphan)
        return drafts, orphans

    def forget(self, orphans: Iterable[Orphan]) -> None:
        """Delete adopted journals: call once their drafts are safe in our own journal."""
        for orphan in orphans:
            orphan.journal_path.unlink(missing_ok=True)
            orphan.lock_path.with_suffix(".spill").unlink(missing_ok=True)
            orphan.lock_path.unlink(missing_ok=True)
            orphan.lock_file.close()


def journal_line(draft: UsageRecordDraft) -> str:
    """One draft as a journal line (also the dead-letter file's format)."""
    return ascii_compact_json(draft.to_json()) + "\n"


def claim_orphan(lock_path: Path) -> Orphan | None:
    """Lock a dead process's journal (None: its process lives, or another took it)."""
    try:
        lock_file = lock_path.open("rb")
    except FileNotFoundError:
        return None  # another writer adopted it meanwhile
    try:
        fcntl.flock(lock_file, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError:
        lock_file.close()
        return None  # its writer is alive
    if not lock_path.exists():
        lock_file.close()
        return None  # adopted and deleted between our open and our lock
    return Orphan(lock_path.with_suffix(".jsonl"), lock_path, lock_file)


def _read_drafts(path: Path) -> list[UsageRecordDraft]:
    drafts: list[UsageRecordDraft] = []
    with contextlib.suppress(FileNotFoundError), path.open(encoding="utf-8") as journal:
        for number, line in enumerate(journal, start=1):
            if not line.endswith("\n"):
                break  # the writer died mid-line: that draft never finished reaching the file
            try:
                drafts.append(UsageRecordDraft.from_json(json.loads(line)))
            except (ValueError, KeyError, TypeError, OarlockError) as error:
                logger.error("usage journal %s line %s is unreadable: %s", path, number, error)
    return drafts
