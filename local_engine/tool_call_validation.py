"""Check parsed tool calls against the request's tools, with Paddler's error wording.

Paddler's agent compiles each tool's ``parameters`` with a full JSON Schema validator
(protocol reference 1.2, 1.5). ``parameters`` can only carry ``type``, ``properties``,
``required`` and ``additionalProperties``, so we check exactly those at the top level (the
object type, required names, unexpected names, and each property's ``type``/``enum``); nested
sub-schemas are not validated. Calls with ``InvalidJson`` arguments skip the schema check.
"""

from __future__ import annotations

import json
from typing import Any

from paddler_protocol.conversation_params import FunctionTool
from paddler_protocol.paddler_message import ParsedToolCall

_JSON_TYPES: dict[str, tuple[type, ...]] = {
    "string": (str,),
    "integer": (int,),
    "number": (int, float),
    "boolean": (bool,),
    "array": (list,),
    "object": (dict,),
    "null": (type(None),),
}


def tool_call_errors(calls: tuple[ParsedToolCall, ...], tools: tuple[FunctionTool, ...]) -> list[str]:
    by_name = {tool.name: tool for tool in tools}
    errors: list[str] = []
    for call in calls:
        tool = by_name.get(call.name)
        if tool is None:
            errors.append(f'unknown tool name "{call.name}"')
        elif call.arguments_valid and tool.parameters is not None:
            problem = _schema_problem(json.loads(call.arguments), tool.parameters)
            if problem is not None:
                errors.append(f'arguments for tool "{call.name}" failed schema check: {problem}')
    return errors


def _schema_problem(arguments: Any, schema: dict[str, Any]) -> str | None:
    if not _has_type(arguments, schema.get("type")):
        return f'{_show(arguments)} is not of type "{schema.get("type")}"'
    if not isinstance(arguments, dict):
        return None
    properties: dict[str, Any] = schema.get("properties") or {}
    for name in schema.get("required") or []:
        if name not in arguments:
            return f'"{name}" is a required property'
    if schema.get("additionalProperties") is False:
        unexpected = [name for name in arguments if name not in properties]
        if unexpected:
            return f"Additional properties are not allowed ({_show(unexpected[0])} was unexpected)"
    for name, value in arguments.items():
        sub_schema = properties.get(name)
        if isinstance(sub_schema, dict):
            problem = _property_problem(value, sub_schema)
            if problem is not None:
                return problem
    return None


def _property_problem(value: Any, schema: dict[str, Any]) -> str | None:
    expected = schema.get("type")
    if isinstance(expected, str) and not _has_type(value, expected):
        return f'{_show(value)} is not of type "{expected}"'
    enum = schema.get("enum")
    if isinstance(enum, list) and value not in enum:
        return f"{_show(value)} is not one of {_show(enum)}"
    return None


def _has_type(value: Any, expected: Any) -> bool:
    if not isinstance(expected, str) or expected not in _JSON_TYPES:
        return True  # unknown or absent type: nothing to check
    if isinstance(value, bool) and expected in ("integer", "number"):
        return False
    return isinstance(value, _JSON_TYPES[expected])


def _show(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False)
