"""Tool parameter schemas reduced to Paddler's four keys, references inlined first."""

from __future__ import annotations

from typing import Any

import pytest

from compat_api.schema_budget import MAX_SCHEMA_NODES, SchemaBudget, SchemaRejected
from compat_api.tool_parameters import reduce_tool_parameters


@pytest.mark.parametrize(
    "schema, reduced",
    [
        ({}, {"type": "object"}),
        ({"properties": {"a": {"type": "string"}}}, {"type": "object", "properties": {"a": {"type": "string"}}}),
        (
            {
                "$schema": "x",
                "title": "T",
                "description": "d",
                "strict": True,
                "$id": "i",
                "type": "object",
                "required": [],
                "additionalProperties": False,
            },
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
        "$defs": {
            "Unit": {"enum": ["c", "f"], "type": "string"},
            "Place": {"type": "object", "properties": {"city": {"type": "string"}, "unit": {"$ref": "#/$defs/Unit"}}},
        },
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
    assert reduce_tool_parameters(schema)["properties"] == {"root": {"type": "object", "properties": {"child": {}}}}


def test_the_input_schema_is_not_modified() -> None:
    schema = {"$schema": "x", "properties": {"a": {"type": "string"}}}
    reduce_tool_parameters(schema)["properties"]["a"]["type"] = "number"
    assert schema == {"$schema": "x", "properties": {"a": {"type": "string"}}}


def reference_bomb(levels: int) -> dict[str, Any]:
    """``d0`` refers to ``d1`` twice, ``d1`` to ``d2`` twice, ...: 2^levels nodes once inlined."""
    definitions: dict[str, Any] = {
        f"d{level}": {
            "type": "object",
            "properties": {"a": {"$ref": f"#/$defs/d{level + 1}"}, "b": {"$ref": f"#/$defs/d{level + 1}"}},
        }
        for level in range(levels)
    }
    definitions[f"d{levels}"] = {"type": "string"}
    return {"type": "object", "properties": {"x": {"$ref": "#/$defs/d0"}}, "$defs": definitions}


def test_a_reference_bomb_is_refused_when_the_node_budget_runs_out_instead_of_expanded() -> None:
    # 2^20 nodes took the old inliner 42 s; the budget stops it after MAX_SCHEMA_NODES.
    budget = SchemaBudget()
    with pytest.raises(SchemaRejected, match=f"more than {MAX_SCHEMA_NODES} nodes") as caught:
        reduce_tool_parameters(reference_bomb(20), budget)
    assert caught.value.path[:2] == ("properties", "x")
    assert budget.nodes_left < 0


def test_one_budget_is_shared_by_every_schema_of_a_request() -> None:
    budget = SchemaBudget(nodes=4_000)
    reduce_tool_parameters(reference_bomb(8), budget)  # ~2,300 nodes
    with pytest.raises(SchemaRejected, match="nodes"):
        reduce_tool_parameters(reference_bomb(8), budget)


def test_a_reference_chain_deeper_than_the_depth_bound_is_refused() -> None:
    chain = {
        f"d{level}": {"type": "object", "properties": {"next": {"$ref": f"#/$defs/d{level + 1}"}}}
        for level in range(200)
    }
    chain["d200"] = {"type": "string"}
    with pytest.raises(SchemaRejected, match="deeper than"):
        reduce_tool_parameters({"properties": {"x": {"$ref": "#/$defs/d0"}}, "$defs": chain})


@pytest.mark.parametrize(
    "schema, path",
    [
        ({"type": {"a": 1}}, ("type",)),
        ({"type": None}, ("type",)),
        ({"type": ["object", "null"]}, ("type",)),
        ({"type": "thing"}, ("type",)),
        ({"properties": ["a"]}, ("properties",)),
        ({"properties": {"a": 5}}, ("properties", "a")),
        ({"properties": {"a": {"type": 5}}}, ("properties", "a", "type")),
        ({"properties": {"a": {"type": "array", "items": [1]}}}, ("properties", "a", "items", 0)),
        ({"properties": {"a": {"anyOf": []}}}, ("properties", "a", "anyOf")),
        ({"properties": {"a": {"minLength": -1}}}, ("properties", "a", "minLength")),
        ({"properties": {"a": {"enum": "x"}}}, ("properties", "a", "enum")),
        ({"properties": {"a": {"description": 3}}}, ("properties", "a", "description")),
        ({"required": "a"}, ("required",)),
        ({"properties": {}, "required": ["a"]}, ("required", 0)),
        ({"properties": {"a": {"$ref": "https://example.com/s.json"}}}, ("properties", "a", "$ref")),
        ({"properties": {"a": {"$ref": "#/$defs/Missing"}}}, ("properties", "a", "$ref")),
    ],
)
def test_a_schema_the_agent_could_not_compile_is_refused_at_the_offending_keyword(
    schema: dict[str, Any], path: tuple[str | int, ...]
) -> None:
    with pytest.raises(SchemaRejected) as caught:
        reduce_tool_parameters(schema)
    assert caught.value.path == path


def test_json_pointer_references_and_the_root_reference_resolve() -> None:
    schema = {
        "properties": {"a": {"type": "string", "maxLength": 3}, "b": {"$ref": "#/properties/a"}, "tree": {"$ref": "#"}},
    }
    reduced = reduce_tool_parameters(schema)
    assert reduced["properties"]["b"] == {"type": "string", "maxLength": 3}
    assert reduced["properties"]["tree"]["properties"]["tree"] == {}
