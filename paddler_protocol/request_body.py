"""Paddler's request checks, once: what its inference routes accept (protocol reference 1.1-1.3).

Paddler deserialises bodies with actix's ``web::Json`` and serde structs marked
``deny_unknown_fields`` at every level, then checks each tool's ``required`` names. The local
engine serves requests through ``parse_conversation_params``/``parse_raw_prompt_params``; the
test suite's fake Paddler through ``check_request``. A body the gateway builds wrongly fails here
exactly as it would on Paddler, with the same status and the same plain-text wording (serde's,
minus the ``at line L column C`` suffix).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Collection
from typing import Any

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
from paddler_protocol.errors import RequestRejected
from paddler_protocol.inference_routes import CONVERSATION_HISTORY_PATH, RAW_PROMPT_PATH

# actix-web's default JSON limit (``web::JsonConfig`` is never configured in Paddler).
MAX_BODY_BYTES = 2 * 1024 * 1024


def check_request(path: str, content_type: str | None, raw_body: bytes) -> dict[str, Any]:
    """The decoded body of an inference request, or ``RequestRejected`` as Paddler would."""
    if not is_json_media_type(content_type):
        raise RequestRejected(400, "Content type error")
    if len(raw_body) > MAX_BODY_BYTES:
        raise RequestRejected(413, too_large_message(f" ({len(raw_body)} bytes)"))
    return _decode(raw_body, _ROUTE_BODIES[path], check_tools=path == CONVERSATION_HISTORY_PATH)


def parse_conversation_params(body: bytes) -> ConversationParams:
    """Body of ``POST /api/v1/continue_from_conversation_history``; raises ``RequestRejected``."""
    document = _decode(body, _conversation_history_body, check_tools=True)
    grammar = document.get("grammar")
    return ConversationParams(
        conversation_history=tuple(_message_of(message) for message in document["conversation_history"]),
        max_tokens=document["max_tokens"],
        enable_thinking=document["enable_thinking"],
        add_generation_prompt=document["add_generation_prompt"],
        grammar=None if grammar is None else _grammar_of(grammar),
        tools=tuple(_tool_of(tool) for tool in document.get("tools", ())),
        parse_tool_calls=document.get("parse_tool_calls", False),
    )


def parse_raw_prompt_params(body: bytes) -> RawPromptParams:
    """Body of ``POST /api/v1/continue_from_raw_prompt``; raises ``RequestRejected``."""
    document = _decode(body, _raw_prompt_body, check_tools=False)
    grammar = document.get("grammar")
    return RawPromptParams(
        raw_prompt=document["raw_prompt"],
        max_tokens=document["max_tokens"],
        grammar=None if grammar is None else _grammar_of(grammar),
    )


def too_large_message(size: str) -> str:
    """actix's words for a body over ``MAX_BODY_BYTES``; ``size`` is `` (N bytes)`` or empty."""
    return f"JSON payload{size} is larger than allowed (limit: {MAX_BODY_BYTES} bytes)."


def is_json_media_type(content_type: str | None) -> bool:
    if content_type is None:
        return False
    media_type = content_type.split(";", 1)[0].strip().lower()
    return media_type == "application/json" or (media_type.startswith("application/") and media_type.endswith("+json"))


def _reject_constant(name: str) -> Any:
    # serde_json has no NaN/Infinity: Python's parser accepts them, Paddler's does not.
    raise ValueError(f"expected value, found `{name}`")


def _decode(raw_body: bytes, decoder: Decoder, *, check_tools: bool) -> dict[str, Any]:
    try:
        body = json.loads(raw_body, object_pairs_hook=_no_duplicate_keys, parse_constant=_reject_constant)
        decoder(body)
    except (ValueError, _Invalid) as error:
        raise RequestRejected(400, f"Json deserialize error: {error}") from error
    if check_tools:
        _check_tool_requirements(body)
    result: dict[str, Any] = body
    return result


def _no_duplicate_keys(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    # serde refuses a struct field given twice; json.loads would keep the last silently.
    document: dict[str, Any] = {}
    for key, value in pairs:
        if key in document:
            raise _Invalid(f"duplicate field `{key}`")
        document[key] = value
    return document


# --- typed values from a document the decoders accepted -----------------------------------


def _message_of(message: dict[str, Any]) -> ConversationMessage:
    content = message["content"]
    if isinstance(content, str):
        return ConversationMessage(role=message["role"], content=content)
    return ConversationMessage(role=message["role"], content=tuple(_part_of(part) for part in content))


def _part_of(part: dict[str, Any]) -> ContentPart:
    if part["type"] == "text":
        return TextPart(part["text"])
    return ImagePart(part["image_url"]["url"])


def _tool_of(tool: dict[str, Any]) -> FunctionTool:
    function = tool["function"]
    return FunctionTool(
        name=function["name"], description=function["description"], parameters=function.get("parameters")
    )


def _grammar_of(grammar: dict[str, Any]) -> GrammarConstraint:
    if grammar["type"] == "gbnf":
        return GbnfGrammar(grammar=grammar["grammar"], root=grammar["root"])
    return JsonSchemaGrammar(schema=grammar["schema"])


def _check_tool_requirements(body: dict[str, Any]) -> None:
    """Paddler's one semantic check (``RawParametersSchema::validate``), after decoding."""
    for tool in body.get("tools", ()):
        parameters = tool["function"].get("parameters")
        if not parameters:
            continue
        required, properties = parameters.get("required"), parameters.get("properties")
        if required is None or properties is None:
            continue
        for name in required:
            if name not in properties:
                raise RequestRejected(
                    400,
                    f"Invalid request parameters: Required field '{name}' not found in properties",
                )


# --- a tiny serde: each decoder accepts a JSON value or raises _Invalid ----------------------


class _Invalid(Exception):
    pass


Decoder = Callable[[Any], None]


def _describe(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return f"boolean `{str(value).lower()}`"
    if isinstance(value, int):
        return f"integer `{value}`"
    if isinstance(value, float):
        return f"floating point `{value}`"
    if isinstance(value, str):
        return f"string {json.dumps(value)}"
    return "sequence" if isinstance(value, list) else "map"


def _expected(names: Collection[str], noun: str) -> str:
    quoted = [f"`{name}`" for name in names]
    if not quoted:
        return f"there are no {noun}s"
    if len(quoted) == 1:
        return f"expected {quoted[0]}"
    if len(quoted) == 2:
        return f"expected {quoted[0]} or {quoted[1]}"
    return "expected one of " + ", ".join(quoted)


def _typed(check: Callable[[Any], bool], expected: str) -> Decoder:
    def decode(value: Any) -> None:
        if not check(value):
            raise _Invalid(f"invalid type: {_describe(value)}, expected {expected}")

    return decode


_string = _typed(lambda value: isinstance(value, str), "a string")
_bool = _typed(lambda value: isinstance(value, bool), "a boolean")
_map = _typed(lambda value: isinstance(value, dict), "a map")


def _any(value: Any) -> None:
    pass


def _i32(value: Any) -> None:
    if isinstance(value, bool) or not isinstance(value, int):
        raise _Invalid(f"invalid type: {_describe(value)}, expected i32")
    if not -(2**31) <= value < 2**31:
        raise _Invalid(f"invalid value: {_describe(value)}, expected i32")


def _optional(decode: Decoder) -> Decoder:
    def decode_optional(value: Any) -> None:
        if value is not None:
            decode(value)

    return decode_optional


def _sequence(decode: Decoder) -> Decoder:
    def decode_sequence(value: Any) -> None:
        if not isinstance(value, list):
            raise _Invalid(f"invalid type: {_describe(value)}, expected a sequence")
        for item in value:
            decode(item)

    return decode_sequence


def _struct(name: str, fields: dict[str, tuple[Decoder, bool]]) -> Decoder:
    """A ``deny_unknown_fields`` struct; ``fields`` maps key -> (decoder, required)."""

    def decode_struct(value: Any) -> None:
        if not isinstance(value, dict):
            raise _Invalid(f"invalid type: {_describe(value)}, expected struct {name}")
        for key, item in value.items():
            if key not in fields:
                raise _Invalid(f"unknown field `{key}`, {_expected(fields, 'field')}")
            fields[key][0](item)
        for key, (_, required) in fields.items():
            if required and key not in value:
                raise _Invalid(f"missing field `{key}`")

    return decode_struct


def _tagged(name: str, variants: dict[str, Decoder]) -> Decoder:
    """An internally tagged enum (``#[serde(tag = "type")]``); each variant decodes the rest."""

    def decode_tagged(value: Any) -> None:
        if not isinstance(value, dict):
            raise _Invalid(f"invalid type: {_describe(value)}, expected internally tagged enum {name}")
        if "type" not in value:
            raise _Invalid("missing field `type`")
        tag = value["type"]
        if not isinstance(tag, str) or tag not in variants:
            shown = tag if isinstance(tag, str) else _describe(tag)
            raise _Invalid(f"unknown variant `{shown}`, {_expected(variants, 'variant')}")
        variants[tag]({key: item for key, item in value.items() if key != "type"})

    return decode_tagged


def _untagged(name: str, *alternatives: Decoder) -> Decoder:
    """serde's untagged enum: the first alternative that fits wins; its error message is generic."""

    def decode_untagged(value: Any) -> None:
        for alternative in alternatives:
            try:
                alternative(value)
            except _Invalid:
                continue
            return
        raise _Invalid(f"data did not match any variant of untagged enum {name}")

    return decode_untagged


def _null(value: Any) -> None:
    if value is not None:
        raise _Invalid(f"invalid type: {_describe(value)}, expected unit")


_grammar = _tagged(
    "GrammarConstraint",
    {
        "gbnf": _struct("Gbnf", {"grammar": (_string, True), "root": (_string, True)}),
        "json_schema": _struct("JsonSchema", {"schema": (_string, True)}),
    },
)

_content_part = _tagged(
    "ConversationMessageContentPart",
    {
        "text": _struct("Text", {"text": (_string, True)}),
        "image_url": _struct("ImageUrl", {"image_url": (_struct("ImageUrl", {"url": (_string, True)}), True)}),
    },
)

_message = _struct(
    "ConversationMessage",
    {
        "role": (_string, True),
        "content": (
            _untagged("ConversationMessageContent", _string, _sequence(_content_part)),
            True,
        ),
    },
)

_parameters_schema = _struct(
    "RawParametersSchema",
    {
        "type": (_string, True),
        "properties": (_optional(_map), False),
        "required": (_optional(_sequence(_string)), False),
        "additionalProperties": (_any, False),
    },
)

_tool = _tagged(
    "Tool",
    {
        "function": _struct(
            "FunctionCall",
            {
                "function": (
                    _struct(
                        "Function",
                        {
                            "name": (_string, True),
                            "description": (_string, True),
                            "parameters": (
                                _untagged("Parameters", _null, _parameters_schema),
                                False,
                            ),
                        },
                    ),
                    True,
                )
            },
        )
    },
)

_conversation_history_body = _struct(
    "ContinueFromConversationHistoryParams",
    {
        "add_generation_prompt": (_bool, True),
        "conversation_history": (_sequence(_message), True),
        "enable_thinking": (_bool, True),
        "grammar": (_optional(_grammar), False),
        "max_tokens": (_i32, True),
        "parse_tool_calls": (_bool, False),
        "tools": (_sequence(_tool), False),
    },
)

_raw_prompt_body = _struct(
    "ContinueFromRawPromptParams",
    {
        "grammar": (_optional(_grammar), False),
        "max_tokens": (_i32, True),
        "raw_prompt": (_string, True),
    },
)

_ROUTE_BODIES: dict[str, Decoder] = {
    CONVERSATION_HISTORY_PATH: _conversation_history_body,
    RAW_PROMPT_PATH: _raw_prompt_body,
}
