"""Parse the text of one closed tool-call section into ``ParsedToolCall`` values.

The sections we recognise (``<tool_call>...</tool_call>``, see ``section_markers``) hold a JSON
object ``{"name": ..., "arguments": {...}}`` (or a list of them). Like Paddler's agent, arguments
that are not valid JSON are still delivered, as ``InvalidJson`` (protocol reference 1.5); only a
section without a recognisable tool name is a ``ToolCallParseFailed``.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from typing import Any

from foundation.compact_json import compact_json
from foundation.errors import OarlockError
from paddler_protocol.paddler_message import ParsedToolCall

_NAME = re.compile(r'"name"\s*:\s*"((?:[^"\\]|\\.)*)"')
_ARGUMENTS = re.compile(r'"arguments"\s*:\s*(.*)\Z', re.DOTALL)


class ToolCallSectionUnparsable(OarlockError):
    """The section holds no tool call we can read; becomes ``ToolCallParseFailed``."""


def parse_tool_call_section(text: str, new_call_id: Callable[[], str]) -> tuple[ParsedToolCall, ...]:
    stripped = text.strip()
    if not stripped:
        raise ToolCallSectionUnparsable("the tool call section is empty")
    try:
        document = json.loads(stripped)
    except ValueError:
        return (_salvage(stripped, new_call_id),)
    calls = document if isinstance(document, list) else [document]
    return tuple(_parsed_call(call, new_call_id) for call in calls)


def _parsed_call(call: Any, new_call_id: Callable[[], str]) -> ParsedToolCall:
    if not isinstance(call, dict) or not isinstance(call.get("name"), str):
        raise ToolCallSectionUnparsable(f"a tool call must be an object with a name, got {call!r}")
    arguments = call.get("arguments", call.get("parameters", {}))
    call_id = call["id"] if isinstance(call.get("id"), str) and call["id"] else new_call_id()
    if isinstance(arguments, str):
        try:
            arguments = json.loads(arguments)
        except ValueError:
            return ParsedToolCall(call_id, call["name"], arguments, arguments_valid=False)
    return ParsedToolCall(call_id, call["name"], compact_json(arguments), arguments_valid=True)


def _salvage(text: str, new_call_id: Callable[[], str]) -> ParsedToolCall:
    """The section is not JSON (often truncated by ``max_tokens``): keep the raw arguments."""
    name = _NAME.search(text)
    if name is None:
        raise ToolCallSectionUnparsable(f"no tool name in {text!r}")
    arguments = _ARGUMENTS.search(text)
    raw = arguments.group(1).strip() if arguments else ""
    if raw.endswith("}") and raw.count("}") > raw.count("{"):
        raw = raw[:-1].rstrip()  # the closing brace of the outer call object
    return ParsedToolCall(new_call_id(), json.loads(f'"{name.group(1)}"'), raw, arguments_valid=False)
