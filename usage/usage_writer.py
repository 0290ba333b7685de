"""Placeholder until the usage records land: keeps submitted drafts in memory (tests read them).

Replaced by the batching writer of the usage-metering issue.
"""

from __future__ import annotations

import threading
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from usage.usage_meter import UsageRecordDraft


class UsageWriter:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.pending: list[UsageRecordDraft] = []

    def submit(self, record: UsageRecordDraft) -> None:
        with self._lock:
            self.pending.append(record)


usage_writer = UsageWriter()
