"""Server-sent events framing shared by both endpoints."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from foundation.compact_json import compact_json

SSE_DONE = b"data: [DONE]\n\n"


def encode_json(payload: Mapping[str, Any]) -> bytes:
    """Compact JSON, UTF-8: what every body and event on the wire uses."""
    return compact_json(payload).encode()


def encode_sse(payload: Mapping[str, Any], event: str | None = None) -> bytes:
    """One SSE event's bytes (the relay sends the events of one upstream message together).

    Chat completions never name events (openai-node 4.x wraps named events); Responses
    always do, with the JSON ``type``.
    """
    data = b"data: " + encode_json(payload) + b"\n\n"
    if event is None:
        return data
    return b"event: " + event.encode() + b"\n" + data
