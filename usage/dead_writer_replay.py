"""What a starting usage writer takes over from dead ones: their journals and open requests.

Dead writers' crash journals are replayed first (their finished records); then their in-flight
journals' open entries become ``interrupted`` records (``interrupted_requests``), and only once
those records are in this writer's journal are their admissions settled: settling first could
not be undone by a crash.
"""

from __future__ import annotations

import logging
from collections.abc import Callable

from accounts.abandoned_admission import settle_abandoned_admissions
from usage.interrupted_requests import adopt_interrupted_requests
from usage.usage_journal import UsageJournal
from usage.usage_record_draft import UsageRecordDraft

logger = logging.getLogger(__name__)


def replay_dead_writers(journal: UsageJournal, accept: Callable[[list[UsageRecordDraft]], None]) -> None:
    """Hand every record the dead writers of ``journal``'s database left to ``accept`` (which
    journals them), then settle their open requests' admissions."""
    drafts, orphans = journal.adopt_orphans()
    if drafts:
        logger.warning("replaying %s usage records from a previous process's journal", len(drafts))
        accept(drafts)
    journal.forget(orphans)
    interrupted = adopt_interrupted_requests(
        journal.path.parent / "inflight",
        journal.database,
        finished={draft.request_id: draft.tokens.total_tokens for draft in drafts},
    )
    if interrupted.drafts:
        logger.warning("writing %s interrupted usage records left open by a dead worker", len(interrupted.drafts))
        accept(interrupted.drafts)
    # Their drafts are in our journal now: settling first could not be undone by a crash.
    settle_abandoned_admissions(interrupted.admissions)
    journal.forget(interrupted.orphans)
