"""A function tool's JSON Schema, reduced to what Paddler accepts (protocol reference 1.2).

Paddler's ``parameters`` object takes exactly four top-level keys — ``type``, ``properties``,
``required``, ``additionalProperties`` — and 400s on anything else. Real clients send more:
the Vercel AI SDK and opencode put ``$schema`` at the top, OpenAI's ``pydantic_function_tool``
adds ``title``, ``description`` and, for nested models, ``$defs`` with ``$ref``s into them.

Dropping ``$defs`` alone (what Paddler's own layer does) leaves those ``$ref``s dangling and the
agent then refuses the schema. So local references (``#/$defs/...``, ``#/definitions/...``,
any ``#/...`` JSON pointer) are inlined first; a reference that cycles back into itself becomes
``{}`` (any value), because a grammar cannot be infinite. Every node produced is paid for from
the request's ``SchemaBudget``: a reference bomb is refused in milliseconds, not expanded.
A reference Oarlock cannot resolve (remote, or pointing nowhere) is refused: the agent could
not resolve it either.
"""

from __future__ import annotations

from typing import Any

from compat_api.json_schema_shape import JSON_SCHEMA_TYPES, check_schema_shape
from compat_api.schema_budget import SchemaBudget, SchemaPath, SchemaRejected
from compat_api.schema_reference import resolve_local_reference

PADDLER_PARAMETER_KEYS = ("type", "properties", "required", "additionalProperties")

_DEFINITION_KEYS = ("$defs", "definitions")


def reduce_tool_parameters(schema: dict[str, Any], budget: SchemaBudget | None = None) -> dict[str, Any]:
    """The four-key schema Paddler accepts, or ``SchemaRejected`` saying where it is wrong."""
    budget = budget if budget is not None else SchemaBudget()
    inlined = _Inliner(schema, budget).inline(schema, frozenset(), 0, ())
    reduced = {key: inlined[key] for key in PADDLER_PARAMETER_KEYS if key in inlined}
    # Paddler requires a type; a schema without one describes an object's properties.
    reduced = {"type": "object", **reduced}
    _check_paddler_top_level(reduced)
    check_schema_shape(reduced)
    return reduced


def _check_paddler_top_level(reduced: dict[str, Any]) -> None:
    """Paddler's own struct (a string ``type``, an object ``properties``, string ``required``
    names that exist) — checked here so the error names the field instead of a 502."""
    kind = reduced["type"]
    if not isinstance(kind, str) or kind not in JSON_SCHEMA_TYPES:
        raise SchemaRejected(
            "The top-level 'type' of tool parameters must be one of the JSON Schema type names "
            'as a single string (usually "object").',
            ("type",),
        )
    properties = reduced.get("properties", {})
    if properties is None:
        properties = {}
    if not isinstance(properties, dict):
        raise SchemaRejected("Tool parameters 'properties' must be an object.", ("properties",))
    required = reduced.get("required", [])
    if required is None:
        required = []
    if not isinstance(required, list) or not all(isinstance(name, str) for name in required):
        raise SchemaRejected("Tool parameters 'required' must be an array of property names.", ("required",))
    for index, name in enumerate(required):
        if name not in properties:
            raise SchemaRejected(
                f"Required field '{name}' is not defined in the tool's 'properties'.", ("required", index)
            )


class _Inliner:
    def __init__(self, root: dict[str, Any], budget: SchemaBudget) -> None:
        self.root = root
        self.budget = budget

    def inline(self, node: Any, expanding: frozenset[str], depth: int, path: SchemaPath) -> Any:
        self.budget.spend(path, depth)
        if isinstance(node, list):
            return [self.inline(item, expanding, depth + 1, (*path, index)) for index, item in enumerate(node)]
        if not isinstance(node, dict):
            return node
        reference = node.get("$ref")
        if isinstance(reference, str):
            return self._resolved(node, reference, expanding, depth, path)
        return {
            key: self.inline(value, expanding, depth + 1, (*path, key))
            for key, value in node.items()
            if key not in _DEFINITION_KEYS
        }

    def _resolved(
        self, node: dict[str, Any], reference: str, expanding: frozenset[str], depth: int, path: SchemaPath
    ) -> dict[str, Any]:
        if reference in expanding:
            return {}
        target = resolve_local_reference(self.root, reference, (*path, "$ref"))
        inlined = self.inline(target, expanding | {reference}, depth + 1, path)
        siblings = {key: value for key, value in node.items() if key != "$ref"}
        inlined_siblings = self.inline(siblings, expanding, depth, path)
        if not isinstance(inlined, dict):  # ``true`` / ``false`` schemas
            return inlined_siblings if inlined is True else {"not": {}, **inlined_siblings}
        return {**inlined, **inlined_siblings}
