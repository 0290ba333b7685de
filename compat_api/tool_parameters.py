"""A function tool's JSON Schema, reduced to what Paddler accepts (protocol reference 1.2).

Paddler's ``parameters`` object takes exactly four top-level keys — ``type``, ``properties``,
``required``, ``additionalProperties`` — and 400s on anything else. Real clients send more:
the Vercel AI SDK and opencode put ``$schema`` at the top, OpenAI's ``pydantic_function_tool``
adds ``title``, ``description`` and, for nested models, ``$defs`` with ``$ref``s into them.

Dropping ``$defs`` alone (what Paddler's own layer does) leaves those ``$ref``s dangling and the
agent then refuses the schema. So local ``#/$defs/...`` / ``#/definitions/...`` references are
inlined first; a reference that cycles back into itself becomes ``{}`` (any value), because a
grammar cannot be infinite.
"""

from __future__ import annotations

import copy
from typing import Any

PADDLER_PARAMETER_KEYS = ("type", "properties", "required", "additionalProperties")

_DEFINITION_PREFIXES = ("#/$defs/", "#/definitions/")


def reduce_tool_parameters(schema: dict[str, Any]) -> dict[str, Any]:
    definitions: dict[str, Any] = {}
    for key in ("definitions", "$defs"):
        if isinstance(schema.get(key), dict):
            definitions.update(schema[key])
    inlined = _inline(schema, definitions, ()) if definitions else schema
    reduced = {key: copy.deepcopy(inlined[key]) for key in PADDLER_PARAMETER_KEYS if key in inlined}
    # Paddler requires a type; a schema without one describes an object's properties.
    return {"type": "object", **reduced}


def _inline(node: Any, definitions: dict[str, Any], expanding: tuple[str, ...]) -> Any:
    if isinstance(node, list):
        return [_inline(item, definitions, expanding) for item in node]
    if not isinstance(node, dict):
        return node
    reference = node.get("$ref")
    if isinstance(reference, str) and reference.startswith(_DEFINITION_PREFIXES):
        name = reference.split("/", 2)[2]
        if name in expanding or name not in definitions:
            return {}
        target = _inline(definitions[name], definitions, (*expanding, name))
        siblings = {key: value for key, value in node.items() if key != "$ref"}
        return {**target, **_inline(siblings, definitions, expanding)}
    return {
        key: _inline(value, definitions, expanding)
        for key, value in node.items()
        if key not in ("$defs", "definitions")
    }
