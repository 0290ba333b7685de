"""Counts one request's tokens as they pass and hands exactly one record to the writer.

The meter is created when a request to an inference endpoint has been authenticated; it sees
every upstream line (``observe``) and is finished exactly once, whatever ended the request
(``finish``; later calls are ignored). Finishing never waits on the database: the record goes
to the usage writer's queue.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any

from django.utils import timezone

from paddler_protocol.paddler_message import (
    ContentToken,
    Done,
    PaddlerLine,
    ReasoningToken,
    ToolCallToken,
    UndeterminableToken,
)
from paddler_protocol.token_usage import TokenUsage
from usage import request_metrics as metrics
from usage.meter_watch import notify_finished, notify_started
from usage.usage_inflight_journal import inflight_journal
from usage.usage_record_draft import Outcome, UsageRecordDraft, UsageSource
from usage.usage_writer import usage_writer

logger = logging.getLogger(__name__)

# The usage record's column lengths (usage/models.py).
PADDLER_REQUEST_ID_MAX_LENGTH = 64
GENERATED_BY_MAX_LENGTH = 200

__all__ = ["Outcome", "UsageMeter", "UsageRecordDraft", "UsageSource"]


@dataclass
class UsageMeter:
    request_id: str
    endpoint: str
    tenant_id: int
    api_key_id: int
    model: str = ""
    upstream: str = ""
    streamed: bool = False
    started_at: datetime = field(default_factory=timezone.now)
    _started_monotonic: float = field(default_factory=time.monotonic)
    _first_token_monotonic: float | None = None
    _counted: dict[str, int] = field(
        default_factory=lambda: {"content": 0, "reasoning": 0, "tool_call": 0, "undeterminable": 0}
    )
    _reported: TokenUsage | None = None
    paddler_request_id: str = ""
    generated_by: str = ""
    record: UsageRecordDraft | None = None
    # Optional display names, copied onto the record so usage outlives renames and deletions.
    tenant_name: str = ""
    key_name: str = ""
    key_prefix: str = ""
    # The prompt size estimated at admission (None until admitted): billed when no Done comes.
    prompt_estimate: int | None = None
    _journalled: bool = False

    def admitted(self, *, prompt_estimate: int | None, admission_plans: list[dict[str, Any]]) -> None:
        """The request was admitted (again: each step of admission calls this; the last one,
        just before the upstream, knows the prompt): journal it, so that a worker killed
        before the end still leaves what its record needs (``usage_inflight_journal``)."""
        if prompt_estimate is not None:
            self.prompt_estimate = max(prompt_estimate, 1)
        self._journalled = True
        inflight_journal.opened(self.request_id, self._journal_fields(admission_plans), self._counters)

    def _journal_fields(self, admission_plans: list[dict[str, Any]]) -> dict[str, Any]:
        return {
            "endpoint": self.endpoint,
            "tenant_id": self.tenant_id,
            "api_key_id": self.api_key_id,
            "model": self.model,
            "upstream": self.upstream,
            "streamed": self.streamed,
            "started_at": self.started_at.isoformat(),
            "prompt_estimate": self.prompt_estimate,
            "tenant_name": self.tenant_name,
            "key_name": self.key_name,
            "key_prefix": self.key_prefix,
            "admissions": admission_plans,
        }

    def _counters(self) -> tuple[int, int, int, int]:
        counted = self._counted
        return counted["content"], counted["reasoning"], counted["tool_call"], counted["undeterminable"]

    # The key's owner (a person), for the live monitor's "own requests" view.
    owner_id: int | None = None
    owner_name: str = ""

    def __post_init__(self) -> None:
        metrics.request_started(self.endpoint)
        notify_started(self)

    def set_target(self, *, model: str, upstream: str, streamed: bool) -> None:
        self.model, self.upstream, self.streamed = model, upstream, streamed

    def observe(self, line: PaddlerLine) -> None:
        # Strings the upstream chose are clipped to their record columns: a record is always
        # storable, whatever an upstream (or something posing as one) sends.
        if line.request_id:
            self.paddler_request_id = line.request_id[:PADDLER_REQUEST_ID_MAX_LENGTH]
        if line.generated_by:
            self.generated_by = line.generated_by[:GENERATED_BY_MAX_LENGTH]
        match line.message:
            case ContentToken():
                self._count("content")
            case ReasoningToken():
                self._count("reasoning")
            case ToolCallToken():
                self._count("tool_call")
            case UndeterminableToken():
                self._count("undeterminable")
            case Done(usage):
                self._reported = usage

    def _count(self, kind: str) -> None:
        if self._first_token_monotonic is None:
            self._first_token_monotonic = time.monotonic()
        self._counted[kind] += 1

    @property
    def progress(self) -> MeterProgress:
        """Tokens so far and time to first token, read by watchers on their own clock."""
        ttft = None
        if self._first_token_monotonic is not None:
            ttft = round((self._first_token_monotonic - self._started_monotonic) * 1000)
        return MeterProgress(
            reasoning_tokens=self._counted["reasoning"],
            content_tokens=self._counted["content"] + self._counted["tool_call"] + self._counted["undeterminable"],
            time_to_first_token_ms=ttft,
            first_token_monotonic=self._first_token_monotonic,
            started_monotonic=self._started_monotonic,
        )

    @property
    def finished(self) -> bool:
        return self.record is not None

    @property
    def tokens(self) -> TokenUsage:
        """Paddler's reported usage when it came, else what was counted so far."""
        if self._reported is not None:
            return self._reported
        return TokenUsage(
            content_tokens=self._counted["content"],
            reasoning_tokens=self._counted["reasoning"],
            tool_call_tokens=self._counted["tool_call"],
            undeterminable_tokens=self._counted["undeterminable"],
        )

    def admission_settled(self) -> None:
        """The request's admission is released: its in-flight entry needs nothing more of it."""
        if self._journalled:
            inflight_journal.released(self.request_id, self.record)

    @property
    def billed_tokens(self) -> int:
        """What the request's budget is settled to: its record's total once finished."""
        return (self.record.tokens if self.record is not None else self.tokens).total_tokens

    def finish(
        self, *, outcome: Outcome, http_status: int, error: BaseException | str | None = None
    ) -> UsageRecordDraft | None:
        """Close the meter and submit its record; only the first call counts."""
        if self.record is not None:
            return None
        now = time.monotonic()
        ttft = (
            None
            if self._first_token_monotonic is None
            else round((self._first_token_monotonic - self._started_monotonic) * 1000)
        )
        reported = self._reported is not None
        tokens = self.tokens
        # The prompt went upstream but no Done said how long it was: bill the admission
        # estimate (flagged) rather than 0, so a budget never under-counts.
        estimate = self.prompt_estimate
        estimated = (
            not reported and estimate is not None and (outcome == "client_disconnected" or tokens.completion_tokens > 0)
        )
        if estimated and estimate is not None:
            tokens = replace(tokens, prompt_tokens=estimate)
        self.record = UsageRecordDraft(
            request_id=self.request_id,
            endpoint=self.endpoint,
            tenant_id=self.tenant_id,
            api_key_id=self.api_key_id,
            model=self.model,
            upstream=self.upstream,
            streamed=self.streamed,
            started_at=self.started_at,
            duration_ms=round((now - self._started_monotonic) * 1000),
            time_to_first_token_ms=ttft,
            outcome=outcome,
            http_status=http_status,
            error_class=_error_class(error),
            usage_source="reported" if reported else "counted",
            tokens=tokens,
            prompt_tokens_known=reported or outcome == "rejected",
            prompt_tokens_estimated=estimated,
            paddler_request_id=self.paddler_request_id,
            generated_by=self.generated_by,
            tenant_name=self.tenant_name,
            key_name=self.key_name,
            key_prefix=self.key_prefix,
        )
        _submit(self.record)
        metrics.observe_request(self.record, error)
        notify_finished(self)
        return self.record


def _prompt_for_log(record: UsageRecordDraft) -> str | int:
    if record.prompt_tokens_known:
        return record.tokens.prompt_tokens
    return f"~{record.tokens.prompt_tokens}" if record.prompt_tokens_estimated else "unknown"


@dataclass(frozen=True, slots=True)
class MeterProgress:
    reasoning_tokens: int
    content_tokens: int
    time_to_first_token_ms: int | None
    first_token_monotonic: float | None
    started_monotonic: float


def _error_class(error: BaseException | str | None) -> str:
    if error is None:
        return ""
    if isinstance(error, str):
        return error
    return type(error).__name__


def _submit(record: UsageRecordDraft) -> None:
    usage_writer.submit(record)
    logger.info(
        "request done endpoint=%s tenant=%s key=%s model=%s outcome=%s status=%s error=%s "
        "prompt_tokens=%s completion_tokens=%s reasoning_tokens=%s source=%s ttft_ms=%s "
        "duration_ms=%s paddler_request_id=%s generated_by=%s",
        record.endpoint,
        record.tenant_name or record.tenant_id,
        record.key_prefix or record.api_key_id,
        record.model or "-",
        record.outcome,
        record.http_status,
        record.error_class or "-",
        _prompt_for_log(record),
        record.tokens.completion_tokens,
        record.tokens.reasoning_tokens,
        record.usage_source,
        record.time_to_first_token_ms if record.time_to_first_token_ms is not None else "-",
        record.duration_ms,
        record.paddler_request_id or "-",
        record.generated_by or "-",
    )
