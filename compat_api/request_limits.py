"""The documented bounds on what a /v1 request may carry (docs/request-limits.md).

Numbers Paddler reads are bounded to what its request types accept; strings Oarlock stores,
records or may log are bounded so that no client can make a record, a journal line or a log
line of arbitrary size. Where OpenAI publishes a limit (metadata, function names) it is used.
"""

from __future__ import annotations

from typing import Any, TypeGuard

from rest_framework import serializers

# Paddler's ``max_tokens`` is an ``i32`` (protocol reference 1.2): one more is a deserialize error.
MAX_OUTPUT_TOKENS = 2**31 - 1

# The usage record's ``model`` column; longer names can never be registered anyway.
MODEL_MAX_LENGTH = 200
# Identifiers of the end user / cache routing: stored with Responses, echoed back.
USER_MAX_LENGTH = 256
SAFETY_IDENTIFIER_MAX_LENGTH = 256
PROMPT_CACHE_KEY_MAX_LENGTH = 256
# Short enumerations OpenAI may extend (service_tier, prompt_cache_retention, include entries).
TOKEN_MAX_LENGTH = 64
# OpenAI's metadata limits: 16 pairs, keys up to 64 characters, values up to 512.
METADATA_MAX_PAIRS = 16
METADATA_KEY_MAX_LENGTH = 64
METADATA_VALUE_MAX_LENGTH = 512


def is_recordable_model(value: Any) -> TypeGuard[str]:
    """A model name that may go into a usage record and a log line as it is."""
    return isinstance(value, str) and len(value) <= MODEL_MAX_LENGTH and value.isprintable()


def printable(value: str) -> None:
    """A DRF validator: no control characters (a newline in a model name forges log lines)."""
    if not value.isprintable():
        raise serializers.ValidationError("Must not contain control characters.", code="invalid_value")
