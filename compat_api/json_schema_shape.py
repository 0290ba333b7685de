"""The shape of a JSON Schema: each keyword holds the kind of value the meta-schema requires.

Paddler's agent compiles tool parameters (``jsonschema`` crate, meta-schema checked) and turns
grammar schemas into GBNF; a keyword of the wrong kind there ends the request with
``ToolSchemaInvalid`` / ``GrammarSyntaxError`` after admission, a token reservation and an
upstream round trip. Checking the keywords' kinds here refuses the same schemas up front with a
400 naming the keyword. Unknown keywords are allowed, as the meta-schema allows them.

The walk recurses: callers pass a schema produced under a ``SchemaBudget`` (bounded nodes and
depth, so the recursion is too), or pass a budget to pay for the walk here. With ``root``, every
``$ref`` must resolve inside it (a grammar is sent with its references, not inlined).
"""

from __future__ import annotations

from math import isfinite
from typing import Any

from compat_api.schema_budget import MAX_SCHEMA_DEPTH, SchemaBudget, SchemaPath, SchemaRejected
from compat_api.schema_reference import resolve_local_reference

JSON_SCHEMA_TYPES = frozenset({"array", "boolean", "integer", "null", "number", "object", "string"})

_SCHEMA_KEYWORDS = frozenset(
    {
        "additionalProperties",
        "additionalItems",
        "contains",
        "propertyNames",
        "not",
        "if",
        "then",
        "else",
        "unevaluatedItems",
        "unevaluatedProperties",
        "contentSchema",
    }
)
_SCHEMA_MAP_KEYWORDS = frozenset({"properties", "patternProperties", "$defs", "definitions", "dependentSchemas"})
_SCHEMA_LIST_KEYWORDS = frozenset({"allOf", "anyOf", "oneOf", "prefixItems"})
_NUMBER_KEYWORDS = frozenset({"minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum"})
_COUNT_KEYWORDS = frozenset(
    {
        "minLength",
        "maxLength",
        "minItems",
        "maxItems",
        "minProperties",
        "maxProperties",
        "minContains",
        "maxContains",
    }
)
_STRING_KEYWORDS = frozenset(
    {
        "title",
        "description",
        "pattern",
        "format",
        "$ref",
        "$id",
        "$schema",
        "$comment",
        "$anchor",
        "contentMediaType",
        "contentEncoding",
    }
)
_BOOLEAN_KEYWORDS = frozenset({"uniqueItems", "readOnly", "writeOnly", "deprecated"})


def check_schema_shape(schema: Any, budget: SchemaBudget | None = None, *, resolve_references: bool = False) -> None:
    """Raise ``SchemaRejected`` at the first keyword whose value is of the wrong kind."""
    _Walk(schema if resolve_references else None, budget).check(schema, (), 0)


class _Walk:
    def __init__(self, root: Any, budget: SchemaBudget | None) -> None:
        self.root = root
        self.budget = budget

    def check(self, schema: Any, path: SchemaPath, depth: int) -> None:
        if self.budget is not None:
            self.budget.spend(path, depth)
        elif depth > MAX_SCHEMA_DEPTH:
            raise SchemaRejected(f"The schema nests deeper than {MAX_SCHEMA_DEPTH} levels.", path)
        if isinstance(schema, bool):
            return
        if not isinstance(schema, dict):
            raise SchemaRejected("A schema must be an object (or true/false).", path)
        for keyword, value in schema.items():
            self._keyword(keyword, value, (*path, keyword), depth + 1)

    def _keyword(self, keyword: str, value: Any, where: SchemaPath, depth: int) -> None:
        if keyword in _SCHEMA_KEYWORDS:
            self.check(value, where, depth)
        elif keyword == "items":
            # A list is the older tuple form; each member is a schema.
            for index, item in enumerate(value) if isinstance(value, list) else ((None, value),):
                self.check(item, where if index is None else (*where, index), depth)
        elif keyword in _SCHEMA_MAP_KEYWORDS:
            _require(isinstance(value, dict), "an object whose values are schemas", where)
            for name, item in value.items():
                self.check(item, (*where, name), depth)
        elif keyword in _SCHEMA_LIST_KEYWORDS:
            _require(isinstance(value, list) and bool(value), "a non-empty array of schemas", where)
            for index, item in enumerate(value):
                self.check(item, (*where, index), depth)
        else:
            _check_value_keyword(keyword, value, where)
            if keyword == "$ref" and self.root is not None:
                resolve_local_reference(self.root, value, where)


def _check_value_keyword(keyword: str, value: Any, where: SchemaPath) -> None:
    if keyword == "type":
        names = value if isinstance(value, list) else [value]
        _require(
            bool(names)
            and all(isinstance(name, str) and name in JSON_SCHEMA_TYPES for name in names)
            and len(set(names)) == len(names),
            "a JSON Schema type name or an array of distinct ones",
            where,
        )
    elif keyword == "required":
        _require(
            isinstance(value, list) and all(isinstance(name, str) for name in value),
            "an array of property names",
            where,
        )
    elif keyword == "enum":
        _require(isinstance(value, list), "an array", where)
    elif keyword in _NUMBER_KEYWORDS:
        # Draft 4 wrote exclusive bounds as booleans; the agent's compiler accepts both.
        allowed_bool = keyword.startswith("exclusive")
        _require(_is_number(value) or (allowed_bool and isinstance(value, bool)), "a number", where)
    elif keyword == "multipleOf":
        _require(_is_number(value) and value > 0, "a number greater than 0", where)
    elif keyword in _COUNT_KEYWORDS:
        _require(_is_count(value), "a non-negative integer", where)
    elif keyword in _STRING_KEYWORDS:
        _require(isinstance(value, str), "a string", where)
    elif keyword in _BOOLEAN_KEYWORDS:
        _require(isinstance(value, bool), "a boolean", where)
    elif keyword == "dependentRequired":
        _require(
            isinstance(value, dict)
            and all(
                isinstance(names, list) and all(isinstance(name, str) for name in names) for names in value.values()
            ),
            "an object whose values are arrays of property names",
            where,
        )


def _is_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool) and isfinite(value)


def _is_count(value: Any) -> bool:
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    return isinstance(value, int) and not isinstance(value, bool) and value >= 0


def _require(condition: bool, expected: str, where: SchemaPath) -> None:
    if not condition:
        raise SchemaRejected(f"The JSON Schema keyword '{where[-1]}' must be {expected}.", where)
