"""Structured output as a request asks for it: chat's ``response_format`` and Responses'
``text.format`` name the same three formats (``structured_output_grammar.py`` turns them into
what Paddler enforces)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, TypeAlias


@dataclass(frozen=True, slots=True)
class PlainTextFormat:
    """``{"type": "text"}``: the default, no constraint."""


@dataclass(frozen=True, slots=True)
class JsonObjectFormat:
    """``{"type": "json_object"}``: any JSON object."""


@dataclass(frozen=True, slots=True)
class JsonSchemaFormat:
    """``{"type": "json_schema", ...}``: a JSON value valid against ``schema``.

    Chat reads ``name`` and ``schema``; Responses also keeps ``description`` and ``strict``, to
    echo them in the response object."""

    schema: dict[str, Any]
    name: str | None = None
    description: str | None = None
    strict: bool | None = None


StructuredOutputFormat: TypeAlias = PlainTextFormat | JsonObjectFormat | JsonSchemaFormat
