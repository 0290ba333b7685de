"""Structured output (chat ``response_format``, Responses ``text.format``) as a Paddler grammar.

Both formats reach Paddler as a JSON-schema grammar whose schema is a JSON *string*
(protocol reference 1.2), serialised compactly as everything else Oarlock sends.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, assert_never

from compat_api.structured_output_format import (
    JsonObjectFormat,
    JsonSchemaFormat,
    PlainTextFormat,
    StructuredOutputFormat,
)
from foundation.compact_json import compact_json
from paddler_protocol.conversation_params import JsonSchemaGrammar


def json_schema_grammar(schema: Mapping[str, Any]) -> JsonSchemaGrammar:
    return JsonSchemaGrammar(compact_json(schema))


# json_object: "some JSON object", as a schema the agent can turn into a grammar.
ANY_JSON_OBJECT_GRAMMAR: JsonSchemaGrammar = json_schema_grammar({"type": "object"})


def structured_output_grammar(output_format: StructuredOutputFormat | None) -> JsonSchemaGrammar | None:
    """The grammar that holds the model to ``output_format``; None for free text."""
    match output_format:
        case None | PlainTextFormat():
            return None
        case JsonObjectFormat():
            return ANY_JSON_OBJECT_GRAMMAR
        case JsonSchemaFormat(schema=schema):
            return json_schema_grammar(schema)
        case _:
            assert_never(output_format)
