"""Plain factories for usage drafts and stored usage (tests only)."""

from __future__ import annotations

import itertools
from datetime import datetime
from typing import Any

from django.utils import timezone

from paddler_protocol.token_usage import TokenUsage
from usage.usage_record_draft import UsageRecordDraft
from usage.usage_record_store import store_usage_batch

_sequence = itertools.count(1)


def make_draft(*, tokens: TokenUsage | None = None, **fields: Any) -> UsageRecordDraft:
    values: dict[str, Any] = {
        "request_id": f"req_test{next(_sequence):028d}",
        "endpoint": "chat.completions",
        "tenant_id": 1,
        "api_key_id": 1,
        "model": "default",
        "upstream": "default",
        "streamed": False,
        "started_at": timezone.now(),
        "duration_ms": 120,
        "time_to_first_token_ms": 40,
        "outcome": "completed",
        "http_status": 200,
        "error_class": "",
        "usage_source": "reported",
        "tokens": tokens if tokens is not None else TokenUsage(prompt_tokens=10, content_tokens=5),
        "prompt_tokens_known": True,
        "paddler_request_id": "paddlerreq",
        "generated_by": "agent-1",
        "tenant_name": "acme",
        "key_name": "ci",
        "key_prefix": "oar_abc",
    }
    values.update(fields)
    return UsageRecordDraft(**values)


def store(*drafts: UsageRecordDraft) -> None:
    store_usage_batch(list(drafts))


def at(text: str) -> datetime:
    """An aware datetime in the current time zone from 'YYYY-MM-DD HH:MM'."""
    return timezone.make_aware(datetime.fromisoformat(text))
