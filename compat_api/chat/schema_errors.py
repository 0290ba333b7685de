"""How the chat schema says "no": validation errors that carry OpenAI's own wording and code.

DRF's built-in messages ("This field is required.") are rephrased by ``request_schema.parse``;
an error raised through ``refuse`` / ``invalid`` is already a full sentence for the client and
is passed through as written, with its OpenAI ``code``.
"""

from __future__ import annotations

from typing import Literal, TypeAlias

from rest_framework import serializers

OpenAICode: TypeAlias = Literal[
    "unsupported_parameter",
    "unsupported_value",
    "invalid_value",
    "missing_required_parameter",
]

# Codes whose message is already written for the client.
VERBATIM_CODES: frozenset[str] = frozenset(
    {"unsupported_parameter", "unsupported_value", "invalid_value", "missing_required_parameter"}
)


def refuse(message: str, *, code: OpenAICode = "unsupported_parameter") -> serializers.ValidationError:
    """A feature OpenAI has and we deliberately do not serve."""
    return serializers.ValidationError(message, code=code)


def invalid(message: str) -> serializers.ValidationError:
    """A value that is wrong for this request, explained in full."""
    return serializers.ValidationError(message, code="invalid_value")


def missing(message: str) -> serializers.ValidationError:
    return serializers.ValidationError(message, code="missing_required_parameter")
