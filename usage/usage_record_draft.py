"""A finished request's usage, on its way from the meter to the database.

It lives below both the meter (which builds it) and the writer (which batches, journals and
stores it), so neither imports the other's module for the type.
"""

from __future__ import annotations

from dataclasses import dataclass, fields
from datetime import datetime
from typing import Any, Literal

from paddler_protocol.token_usage import TokenUsage

Outcome = Literal["completed", "incomplete", "failed", "client_disconnected", "rejected", "interrupted", "cancelled"]
UsageSource = Literal["reported", "counted"]


@dataclass(frozen=True, slots=True)
class UsageRecordDraft:
    """Everything a usage record holds, before it is written."""

    request_id: str
    endpoint: str
    tenant_id: int
    api_key_id: int
    model: str
    upstream: str
    streamed: bool
    started_at: datetime
    duration_ms: int
    time_to_first_token_ms: int | None
    outcome: Outcome
    http_status: int
    error_class: str
    usage_source: UsageSource
    tokens: TokenUsage
    # Prompt tokens are only known from Paddler's Done: when it never came they are unknown.
    prompt_tokens_known: bool
    paddler_request_id: str
    generated_by: str
    # Names as they were when the request ran (usage outlives renamed and deleted keys);
    # empty when the caller did not know them: the writer looks them up.
    tenant_name: str = ""
    key_name: str = ""
    key_prefix: str = ""
    # No Done came but the prompt reached Paddler: ``tokens.prompt_tokens`` is the estimate
    # made at admission, billed so that a budget never under-counts.
    prompt_tokens_estimated: bool = False

    def to_json(self) -> dict[str, Any]:
        """A JSON object for the writer's crash journal (``from_json`` reads it back)."""
        value: dict[str, Any] = {}
        for field in fields(self):
            item = getattr(self, field.name)
            if isinstance(item, TokenUsage):
                item = item.to_json()
            elif isinstance(item, datetime):
                item = item.isoformat()
            value[field.name] = item
        return value

    @classmethod
    def from_json(cls, value: dict[str, Any]) -> UsageRecordDraft:
        known = {field.name for field in fields(cls)}
        data = {name: item for name, item in value.items() if name in known}
        data["tokens"] = TokenUsage.from_json(data["tokens"])
        data["started_at"] = datetime.fromisoformat(data["started_at"])
        return cls(**data)
