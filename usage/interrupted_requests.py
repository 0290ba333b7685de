"""Records for the requests a dead worker left open in its in-flight journal.

Each entry still open when its process died becomes an ``interrupted`` record: the tokens of
its last checkpoint (``usage_source`` "counted") and the prompt estimated at admission
(flagged as estimated). Its admission is settled to the same total, so the budget matches the
record. A request whose finished record made it into the writer's journal is skipped here:
that record is replayed instead (and a record already committed makes either a no-op).
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path

from accounts.abandoned_admission import AbandonedAdmission
from accounts.limit_store import AdmissionPlan
from paddler_protocol.token_usage import TokenUsage
from usage.usage_inflight_journal import InFlightEntry, read_open_entries
from usage.usage_journal import Orphan, claim_orphan
from usage.usage_record_draft import UsageRecordDraft

logger = logging.getLogger(__name__)

# What the client saw: the connection cut mid-answer, as when a proxy's upstream dies.
INTERRUPTED_HTTP_STATUS = 502


@dataclass
class InterruptedRequests:
    drafts: list[UsageRecordDraft] = field(default_factory=list)
    admissions: list[AbandonedAdmission] = field(default_factory=list)
    orphans: list[Orphan] = field(default_factory=list)


def adopt_interrupted_requests(directory: Path, database: str, *, finished: Mapping[str, int]) -> InterruptedRequests:
    """Claim every dead process's in-flight journal of ``database``; ``finished`` maps the
    request ids whose finished record is being replayed anyway to the tokens it bills."""
    adopted = InterruptedRequests()
    for lock_path in sorted(directory.glob(f"{database}-inflight-*.lock")):
        orphan = claim_orphan(lock_path)
        if orphan is None:
            continue
        adopted.orphans.append(orphan)
        for entry in read_open_entries(orphan.journal_path):
            try:
                _adopt_entry(entry, finished, adopted)
            except (KeyError, TypeError, ValueError) as error:
                logger.error("in-flight entry %s in %s is unusable: %s", entry.request_id, lock_path, error)
    return adopted


def _adopt_entry(entry: InFlightEntry, finished: Mapping[str, int], adopted: InterruptedRequests) -> None:
    """A finished record (recorded before the death, or replayed now) only needs its
    admission settled; anything else becomes an interrupted record, settled to its total."""
    billed = entry.recorded_tokens if entry.recorded_tokens is not None else finished.get(entry.request_id)
    if billed is None and entry.finished_draft is not None:
        # Released (settled) before its record reached the writer's journal: the record as
        # it was finished, its budget already charged.
        adopted.drafts.append(UsageRecordDraft.from_json(entry.finished_draft))
        return
    if billed is None:
        draft = interrupted_draft(entry)
        adopted.drafts.append(draft)
        billed = draft.tokens.total_tokens
    if not entry.released:
        for plan in entry.fields.get("admissions") or ():
            adopted.admissions.append(AbandonedAdmission(AdmissionPlan.from_json(plan), billed))


def interrupted_draft(entry: InFlightEntry) -> UsageRecordDraft:
    fields = entry.fields
    started_at = datetime.fromisoformat(fields["started_at"])
    content, reasoning, tool_call, undeterminable = entry.counted
    # No estimate: killed after the cheap admission, before the body was read or sent upstream.
    estimated = fields.get("prompt_estimate") is not None
    prompt = int(fields["prompt_estimate"]) if estimated else 0
    tokens = TokenUsage(
        prompt_tokens=prompt,
        content_tokens=content,
        reasoning_tokens=reasoning,
        tool_call_tokens=tool_call,
        undeterminable_tokens=undeterminable,
    )
    last_seen = (
        datetime.fromtimestamp(entry.checkpointed_at, tz=started_at.tzinfo) if entry.checkpointed_at else started_at
    )
    return UsageRecordDraft(
        request_id=entry.request_id,
        endpoint=fields["endpoint"],
        tenant_id=int(fields["tenant_id"]),
        api_key_id=int(fields["api_key_id"]),
        model=fields.get("model", ""),
        upstream=fields.get("upstream", ""),
        streamed=bool(fields.get("streamed")),
        started_at=started_at,
        duration_ms=max(round((last_seen - started_at) / timedelta(milliseconds=1)), 0),
        time_to_first_token_ms=None,
        outcome="interrupted",
        http_status=INTERRUPTED_HTTP_STATUS,
        error_class="WorkerDied",
        usage_source="counted",
        tokens=tokens,
        prompt_tokens_known=False,
        paddler_request_id="",
        generated_by="",
        tenant_name=fields.get("tenant_name", ""),
        key_name=fields.get("key_name", ""),
        key_prefix=fields.get("key_prefix", ""),
        prompt_tokens_estimated=estimated,
    )
