"""Tool parameter schemas reduced to Paddler's four keys, references inlined first."""

from __future__ import annotations

from typing import Any

import pytest

from compat_api.tool_parameters import reduce_tool_parameters


@pytest.mark.parametrize(
    "schema, reduced",
    [
        ({}, {"type": "object"}),
        ({"properties": {"a": {"type": "string"}}}, {"type": "object", "properties": {"a": {"type": "string"}}}),
        (
            {"$schema": "x", "title": "T", "description": "d", "strict": True, "$id": "i", "type": "object",
             "required": [], "additionalProperties": False},
            {"type": "object", "required": [], "additionalProperties": False},
        ),
    ],
)
def test_only_the_four_accepted_keys_remain_and_type_defaults_to_object(
    schema: dict[str, Any], reduced: dict[str, Any]
) -> None:
    assert reduce_tool_parameters(schema) == reduced


def test_pydantic_style_defs_are_inlined_before_they_are_dropped() -> None:
    schema = {
        "$defs": {"Unit": {"enum": ["c", "f"], "type": "string"}, "Place": {
            "type": "object", "properties": {"city": {"type": "string"}, "unit": {"$ref": "#/$defs/Unit"}}}},
        "properties": {"place": {"$ref": "#/$defs/Place", "description": "where"}},
        "required": ["place"],
        "title": "Args",
        "type": "object",
    }
    assert reduce_tool_parameters(schema) == {
        "type": "object",
        "properties": {
            "place": {
                "type": "object",
                "properties": {"city": {"type": "string"}, "unit": {"enum": ["c", "f"], "type": "string"}},
                "description": "where",
            }
        },
        "required": ["place"],
    }


def test_a_recursive_reference_becomes_any_value() -> None:
    schema = {
        "definitions": {"Node": {"type": "object", "properties": {"child": {"$ref": "#/definitions/Node"}}}},
        "properties": {"root": {"$ref": "#/definitions/Node"}},
    }
    assert reduce_tool_parameters(schema)["properties"] == {
        "root": {"type": "object", "properties": {"child": {}}}
    }


def test_the_input_schema_is_not_modified() -> None:
    schema = {"$schema": "x", "properties": {"a": {"type": "string"}}}
    reduce_tool_parameters(schema)["properties"]["a"]["type"] = "number"
    assert schema == {"$schema": "x", "properties": {"a": {"type": "string"}}}
