"""Strict parsing of the two inference request bodies into ``paddler_protocol.conversation_params`` types.

Paddler deserialises with serde and ``deny_unknown_fields`` at every level (reference 1.2, 1.3):
an unknown key, a missing required key, a wrong type or ``content: null`` is refused by actix
with a 400 and a plain-text ``Json deserialize error: ...`` body before any streaming starts.
The messages imitate serde's wording (without line/column) so that logs read the same.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any, TypeVar

from paddler_protocol.conversation_params import (
    ContentPart,
    ConversationMessage,
    ConversationParams,
    FunctionTool,
    GbnfGrammar,
    GrammarConstraint,
    ImagePart,
    JsonSchemaGrammar,
    RawPromptParams,
    TextPart,
)
from local_engine.errors import RequestRejected

_I32_MIN, _I32_MAX = -(2**31), 2**31 - 1

_CONVERSATION_FIELDS = (
    "add_generation_prompt",
    "conversation_history",
    "enable_thinking",
    "grammar",
    "max_tokens",
    "parse_tool_calls",
    "tools",
)
_RAW_PROMPT_FIELDS = ("raw_prompt", "max_tokens", "grammar")
_PARAMETERS_FIELDS = ("type", "properties", "required", "additionalProperties")

T = TypeVar("T")


def parse_conversation_params(body: bytes) -> ConversationParams:
    """Body of ``POST /api/v1/continue_from_conversation_history``; raises ``RequestRejected``."""
    document = _object(_load(body), "ContinueFromConversationHistoryParams", _CONVERSATION_FIELDS)
    _require(document, ("add_generation_prompt", "conversation_history", "enable_thinking", "max_tokens"))
    tools = tuple(_parse_tool(tool) for tool in _list(document.get("tools", []), "a sequence"))
    for tool in tools:
        _check_required_in_properties(tool)
    return ConversationParams(
        conversation_history=tuple(
            _parse_message(message)
            for message in _list(document["conversation_history"], "a sequence")
        ),
        max_tokens=_i32(document["max_tokens"]),
        enable_thinking=_bool(document["enable_thinking"]),
        add_generation_prompt=_bool(document["add_generation_prompt"]),
        grammar=_optional(document.get("grammar"), _parse_grammar),
        tools=tools,
        parse_tool_calls=_bool(document.get("parse_tool_calls", False)),
    )


def parse_raw_prompt_params(body: bytes) -> RawPromptParams:
    """Body of ``POST /api/v1/continue_from_raw_prompt``; raises ``RequestRejected``."""
    document = _object(_load(body), "ContinueFromRawPromptParams", _RAW_PROMPT_FIELDS)
    _require(document, ("raw_prompt", "max_tokens"))
    return RawPromptParams(
        raw_prompt=_str(document["raw_prompt"]),
        max_tokens=_i32(document["max_tokens"]),
        grammar=_optional(document.get("grammar"), _parse_grammar),
    )


# --- structure ------------------------------------------------------------------------------


def _parse_message(value: Any) -> ConversationMessage:
    message = _object(value, "ConversationMessage", ("role", "content"))
    _require(message, ("role", "content"))
    content = message["content"]
    if isinstance(content, str):
        return ConversationMessage(role=_str(message["role"]), content=content)
    if isinstance(content, list):
        return ConversationMessage(
            role=_str(message["role"]), content=tuple(_parse_part(part) for part in content)
        )
    # serde's untagged enum: neither a string nor a list of parts (``null`` included).
    raise _rejected("data did not match any variant of untagged enum ConversationMessageContent")


def _parse_part(value: Any) -> ContentPart:
    if not isinstance(value, dict):
        raise _invalid_type(value, "internally tagged enum ConversationMessageContentPart")
    if "type" not in value:
        raise _rejected("missing field `type`")
    match value["type"]:
        case "text":
            part = _object(value, "text part", ("type", "text"))
            _require(part, ("text",))
            return TextPart(_str(part["text"]))
        case "image_url":
            part = _object(value, "image_url part", ("type", "image_url"))
            _require(part, ("image_url",))
            image_url = _object(part["image_url"], "ImageUrl", ("url",))
            _require(image_url, ("url",))
            return ImagePart(_str(image_url["url"]))
        case other:
            raise _unknown_variant(other, ("text", "image_url"))


def _parse_tool(value: Any) -> FunctionTool:
    tool = _object(value, "Tool", ("type", "function"))
    _require(tool, ("type", "function"))
    if tool["type"] != "function":
        raise _unknown_variant(tool["type"], ("function",))
    function = _object(tool["function"], "FunctionCall", ("name", "description", "parameters"))
    _require(function, ("name", "description"))
    return FunctionTool(
        name=_str(function["name"]),
        description=_str(function["description"]),
        parameters=_optional(function.get("parameters"), _parse_parameters),
    )


def _parse_parameters(value: Any) -> dict[str, Any]:
    parameters = _object(value, "RawParametersSchema", _PARAMETERS_FIELDS)
    _require(parameters, ("type",))
    _str(parameters["type"])
    if "properties" in parameters:
        _object(parameters["properties"], "a map", None)
    if "required" in parameters:
        for name in _list(parameters["required"], "a sequence"):
            _str(name)
    return parameters


def _check_required_in_properties(tool: FunctionTool) -> None:
    """The balancer's own tool check, answered ``400 Invalid request parameters: ...``."""
    if tool.parameters is None:
        return
    properties = tool.parameters.get("properties", {})
    for name in tool.parameters.get("required", []):
        if name not in properties:
            raise RequestRejected(
                400, f"Invalid request parameters: Required field '{name}' not found in properties"
            )


def _parse_grammar(value: Any) -> GrammarConstraint:
    if not isinstance(value, dict):
        raise _invalid_type(value, "internally tagged enum GrammarConstraint")
    if "type" not in value:
        raise _rejected("missing field `type`")
    match value["type"]:
        case "gbnf":
            grammar = _object(value, "gbnf", ("type", "grammar", "root"))
            _require(grammar, ("grammar", "root"))
            return GbnfGrammar(grammar=_str(grammar["grammar"]), root=_str(grammar["root"]))
        case "json_schema":
            grammar = _object(value, "json_schema", ("type", "schema"))
            _require(grammar, ("schema",))
            return JsonSchemaGrammar(schema=_str(grammar["schema"]))
        case other:
            raise _unknown_variant(other, ("gbnf", "json_schema"))


# --- scalars and objects --------------------------------------------------------------------


def _load(body: bytes) -> Any:
    try:
        return json.loads(body, object_pairs_hook=_no_duplicate_keys)
    except (ValueError, UnicodeDecodeError) as error:
        raise _rejected(str(error)) from error


def _no_duplicate_keys(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    document: dict[str, Any] = {}
    for key, value in pairs:
        if key in document:
            raise _rejected(f"duplicate field `{key}`")
        document[key] = value
    return document


def _object(value: Any, name: str, allowed: tuple[str, ...] | None) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise _invalid_type(value, f"struct {name}" if allowed is not None else name)
    if allowed is not None:
        for key in value:
            if key not in allowed:
                expected = ", ".join(f"`{field}`" for field in allowed)
                raise _rejected(f"unknown field `{key}`, expected one of {expected}")
    return value


def _require(document: dict[str, Any], fields: tuple[str, ...]) -> None:
    for field in fields:
        if field not in document:
            raise _rejected(f"missing field `{field}`")


def _optional(value: Any, parse: Callable[[Any], T]) -> T | None:
    return None if value is None else parse(value)


def _list(value: Any, expected: str) -> list[Any]:
    if not isinstance(value, list):
        raise _invalid_type(value, expected)
    return value


def _str(value: Any) -> str:
    if not isinstance(value, str):
        raise _invalid_type(value, "a string")
    return value


def _bool(value: Any) -> bool:
    if not isinstance(value, bool):
        raise _invalid_type(value, "a boolean")
    return value


def _i32(value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise _invalid_type(value, "i32")
    if not _I32_MIN <= value <= _I32_MAX:
        raise _rejected(f"invalid value: integer `{value}`, expected i32")
    return value


def _invalid_type(value: Any, expected: str) -> RequestRejected:
    return _rejected(f"invalid type: {_describe(value)}, expected {expected}")


def _describe(value: Any) -> str:
    match value:
        case None:
            return "null"
        case bool():
            return f"boolean `{str(value).lower()}`"
        case int():
            return f"integer `{value}`"
        case float():
            return f"floating point `{value}`"
        case str():
            return f"string {json.dumps(value)}"
        case list():
            return "sequence"
        case _:
            return "map"


def _unknown_variant(value: Any, expected: tuple[str, ...]) -> RequestRejected:
    if not isinstance(value, str):
        return _invalid_type(value, "a variant name")
    names = " or ".join(f"`{name}`" for name in expected)
    return _rejected(f"unknown variant `{value}`, expected {names}")


def _rejected(reason: str) -> RequestRejected:
    return RequestRejected(400, f"Json deserialize error: {reason}")
