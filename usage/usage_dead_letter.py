"""Where the usage writer puts a draft that the database refuses on its own merits.

A draft that fails alone with a data error (not a connection error) would fail the same way on
every retry and hold up all metering behind it. The writer moves it here instead: one JSON line
per draft, the crash journal's own serialisation, so an operator can fix and replay it. Nothing
reads this file automatically; it is never truncated by Oarlock.

Several writers (processes) of one database share the file. Each line reaches it in a single
``write`` on an ``O_APPEND`` descriptor, so lines of concurrent writers never interleave.
"""

from __future__ import annotations

import os
from pathlib import Path

from usage.usage_journal import journal_line
from usage.usage_record_draft import UsageRecordDraft


class UsageDeadLetter:
    def __init__(self, directory: Path, database: str) -> None:
        self.path = directory / f"dead-letter-{database}.jsonl"

    def append(self, draft: UsageRecordDraft) -> None:
        """Add ``draft`` durably (fsynced: it is about to leave memory and the journal)."""
        self.path.parent.mkdir(parents=True, exist_ok=True)
        descriptor = os.open(self.path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
        try:
            line = journal_line(draft).encode("utf-8")
            written = os.write(descriptor, line)
            if written != len(line):
                raise OSError(f"short write to {self.path}: {written} of {len(line)} bytes")
            os.fsync(descriptor)
        finally:
            os.close(descriptor)
