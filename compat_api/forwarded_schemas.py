"""The schemas a request forwards to Paddler — tool parameters and a structured-output grammar —
checked and reduced under one ``SchemaBudget`` per request, refused as OpenAI 400s.

Each endpoint's ``parse`` calls these after its serializer, with the ``param`` prefix where the
schema sits in its own body (``tools[2].function.parameters`` in chat, ``tools[2].parameters``
in Responses), so the client is told the full path of the offending keyword.
"""

from __future__ import annotations

from typing import Any

from compat_api.errors import InvalidRequest
from compat_api.json_schema_shape import check_schema_shape
from compat_api.schema_budget import SchemaBudget, SchemaRejected, param_path
from compat_api.tool_parameters import reduce_tool_parameters


def reduced_tool_parameters(
    parameters: dict[str, Any] | None, *, param: str, budget: SchemaBudget
) -> dict[str, Any] | None:
    """What Paddler is sent for a tool's ``parameters`` (None stays None: "any object")."""
    if parameters is None:
        return None
    try:
        return reduce_tool_parameters(parameters, budget)
    except SchemaRejected as rejected:
        raise _invalid(rejected, param) from None


def check_grammar_schema(schema: dict[str, Any], *, param: str, budget: SchemaBudget) -> None:
    """A structured-output schema is sent as written (the agent resolves its references while
    building the grammar), so it is checked, not expanded."""
    try:
        check_schema_shape(schema, budget, resolve_references=True)
    except SchemaRejected as rejected:
        raise _invalid(rejected, param) from None


def _invalid(rejected: SchemaRejected, param: str) -> InvalidRequest:
    where = param_path(param, rejected.path)
    return InvalidRequest(f"Invalid schema at '{where}': {rejected.message}", param=where, code="invalid_value")
