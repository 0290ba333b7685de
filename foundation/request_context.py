"""The id of the request being served, for log lines and the ``x-request-id`` header."""

from __future__ import annotations

import secrets
from contextvars import ContextVar

current_request_id: ContextVar[str] = ContextVar("current_request_id", default="-")


def new_request_id() -> str:
    """OpenAI's format: ``req_`` + 32 hex characters."""
    return "req_" + secrets.token_hex(16)
