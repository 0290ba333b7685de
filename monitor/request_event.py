"""What the monitor shows of one request: a small JSON-ready snapshot of its meter."""

from __future__ import annotations

import os
import time
from typing import Any

from usage.usage_meter import UsageMeter

WORKER = f"pid {os.getpid()}"


def live_event(meter: UsageMeter, now: float | None = None) -> dict[str, Any]:
    now = time.monotonic() if now is None else now
    progress = meter.progress
    tokens = progress.reasoning_tokens + progress.content_tokens
    generating_for = 0.0 if progress.first_token_monotonic is None else now - progress.first_token_monotonic
    if not meter.model:
        state = "starting"
    elif progress.first_token_monotonic is None:
        state = "waiting for a slot"
    else:
        state = "generating"
    return {
        **_identity(meter),
        "state": state,
        "ttft_ms": progress.time_to_first_token_ms,
        "reasoning_tokens": progress.reasoning_tokens,
        "content_tokens": progress.content_tokens,
        # One token alone has no rate: wait for the second before dividing by its time.
        "tokens_per_second": round(tokens / generating_for, 1) if tokens > 1 and generating_for > 0 else None,
        "elapsed_ms": round((now - progress.started_monotonic) * 1000),
    }


def finished_event(meter: UsageMeter) -> dict[str, Any]:
    record = meter.record
    assert record is not None, "only a finished meter has a finished event"
    tokens = record.tokens
    generating_ms = record.duration_ms - (record.time_to_first_token_ms or 0)
    completion = tokens.completion_tokens
    return {
        **_identity(meter),
        "state": "finished",
        "outcome": record.outcome,
        "http_status": record.http_status,
        "ttft_ms": record.time_to_first_token_ms,
        "reasoning_tokens": tokens.reasoning_tokens,
        "content_tokens": completion - tokens.reasoning_tokens,
        "tokens_per_second": round(completion * 1000 / generating_ms, 1)
        if completion > 1 and generating_ms > 0
        else None,
        "elapsed_ms": record.duration_ms,
    }


def _identity(meter: UsageMeter) -> dict[str, Any]:
    return {
        "request_id": meter.request_id,
        "started_at": meter.started_at.isoformat(),
        "tenant_id": meter.tenant_id,
        "tenant": meter.tenant_name,
        "key_prefix": meter.key_prefix,
        "owner_id": meter.owner_id,
        "person": meter.owner_name,
        "model": meter.model,
        "endpoint": meter.endpoint,
        "worker": WORKER,
    }
