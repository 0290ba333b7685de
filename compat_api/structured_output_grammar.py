"""Structured output (chat ``response_format``, Responses ``text.format``) as a Paddler grammar.

Both formats reach Paddler as a JSON-schema grammar whose schema is a JSON *string*
(protocol reference 1.2), serialised compactly as everything else Oarlock sends.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from foundation.compact_json import compact_json
from paddler_protocol.conversation_params import JsonSchemaGrammar


def json_schema_grammar(schema: Mapping[str, Any]) -> JsonSchemaGrammar:
    return JsonSchemaGrammar(compact_json(schema))


# json_object: "some JSON object", as a schema the agent can turn into a grammar.
ANY_JSON_OBJECT_GRAMMAR: JsonSchemaGrammar = json_schema_grammar({"type": "object"})
