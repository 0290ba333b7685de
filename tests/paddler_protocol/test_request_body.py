from __future__ import annotations

import json
from typing import Any

import pytest

from paddler_protocol.conversation_params import (
    ConversationMessage,
    ConversationParams,
    FunctionTool,
    GbnfGrammar,
    ImagePart,
    JsonSchemaGrammar,
    RawPromptParams,
    TextPart,
)
from paddler_protocol.errors import RequestRejected
from paddler_protocol.request_body import parse_conversation_params, parse_raw_prompt_params


def conversation(**overrides: Any) -> bytes:
    body: dict[str, Any] = {
        "add_generation_prompt": True,
        "conversation_history": [{"role": "user", "content": "Hi"}],
        "enable_thinking": False,
        "max_tokens": 16,
    }
    body.update(overrides)
    return json.dumps(body).encode()


def rejection(parse: Any, body: bytes) -> RequestRejected:
    with pytest.raises(RequestRejected) as caught:
        parse(body)
    return caught.value


def test_minimal_conversation_body_parses_with_paddler_defaults() -> None:
    assert parse_conversation_params(conversation()) == ConversationParams(
        conversation_history=(ConversationMessage("user", "Hi"),),
        max_tokens=16,
        enable_thinking=False,
        add_generation_prompt=True,
    )


def test_what_the_platform_sends_parses_back_to_the_same_params() -> None:
    params = ConversationParams(
        conversation_history=(
            ConversationMessage("system", "Be brief."),
            ConversationMessage("user", (TextPart("What is this?"), ImagePart("data:image/png;base64,iVBOR"))),
        ),
        max_tokens=64,
        enable_thinking=False,
        grammar=JsonSchemaGrammar('{"type":"object"}'),
        tools=(
            FunctionTool(
                "get_weather",
                "Weather for a city",
                {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]},
            ),
        ),
        parse_tool_calls=True,
    )
    assert parse_conversation_params(json.dumps(params.to_json()).encode()) == params


def test_raw_prompt_body_parses_with_a_gbnf_grammar() -> None:
    body = {
        "raw_prompt": "Yes or no?",
        "max_tokens": 4,
        "grammar": {"type": "gbnf", "grammar": 'root ::= "yes"', "root": "root"},
    }
    assert parse_raw_prompt_params(json.dumps(body).encode()) == RawPromptParams(
        "Yes or no?", 4, GbnfGrammar('root ::= "yes"', "root")
    )


@pytest.mark.parametrize(
    ("body", "reason"),
    [
        (conversation(temperature=0.2), "unknown field `temperature`"),
        (conversation(conversation_history=[{"role": "user", "content": "x", "name": "bob"}]), "unknown field `name`"),
        (conversation(conversation_history=[{"role": "user", "content": None}]), "untagged enum"),
        (conversation(conversation_history=[{"role": "user"}]), "missing field `content`"),
        (
            conversation(
                conversation_history=[
                    {
                        "role": "user",
                        "content": [{"type": "image_url", "image_url": {"url": "data:,", "detail": "auto"}}],
                    }
                ]
            ),
            # serde's untagged enum hides the inner error, as the strict fake always said.
            "untagged enum ConversationMessageContent",
        ),
        (
            conversation(conversation_history=[{"role": "user", "content": [{"type": "audio"}]}]),
            "untagged enum ConversationMessageContent",
        ),
        (conversation(max_tokens="16"), 'invalid type: string "16", expected i32'),
        (conversation(max_tokens=2**31), "expected i32"),
        (conversation(enable_thinking=None), "invalid type: null, expected a boolean"),
        (conversation(grammar={"type": "regex", "pattern": "x"}), "unknown variant `regex`"),
        (conversation(grammar={"type": "json_schema", "schema": {"type": "object"}}), "expected a string"),
        (
            conversation(
                tools=[
                    {
                        "type": "function",
                        "function": {"name": "f", "description": "", "parameters": {"type": "object", "$schema": "x"}},
                    }
                ]
            ),
            "untagged enum Parameters",
        ),
        (conversation(tools=[{"type": "function", "function": {"name": "f"}}]), "missing field `description`"),
        (b'{"max_tokens": 1, "max_tokens": 2}', "duplicate field `max_tokens`"),
        (b"not json", "Json deserialize error"),
    ],
)
def test_bodies_paddler_refuses_are_rejected_with_a_plain_400(body: bytes, reason: str) -> None:
    error = rejection(parse_conversation_params, body)
    assert error.status == 400
    assert error.body.startswith("Json deserialize error: ")
    assert reason in error.body


def test_missing_required_field_is_named() -> None:
    body = json.dumps({"conversation_history": [], "enable_thinking": False, "max_tokens": 1}).encode()
    assert rejection(parse_conversation_params, body).body == (
        "Json deserialize error: missing field `add_generation_prompt`"
    )


def test_required_tool_argument_missing_from_properties_is_invalid_request_parameters() -> None:
    tool = {
        "type": "function",
        "function": {
            "name": "f",
            "description": "",
            "parameters": {"type": "object", "properties": {"a": {}}, "required": ["a", "b"]},
        },
    }
    error = rejection(parse_conversation_params, conversation(tools=[tool]))
    assert (error.status, error.body) == (400, "Invalid request parameters: Required field 'b' not found in properties")


def test_raw_prompt_refuses_conversation_fields() -> None:
    body = json.dumps({"raw_prompt": "x", "max_tokens": 1, "enable_thinking": False}).encode()
    assert "unknown field `enable_thinking`" in rejection(parse_raw_prompt_params, body).body
