"""The chat request schema: what is accepted, what it becomes, and the exact 400 for the rest."""

from __future__ import annotations

from typing import Any

import pytest

from compat_api.chat.request import (
    ChatMessage,
    FunctionDefinition,
    ImageContent,
    TextContent,
    ToolChoice,
)
from compat_api.chat.request_schema import ChatCompletionRequestSerializer
from compat_api.errors import InvalidRequest
from compat_api.structured_output_format import JsonObjectFormat, JsonSchemaFormat
from compat_api.tool_call_rendering import AssistantToolCall

USER = {"role": "user", "content": "Hi"}
PNG = "data:image/png;base64,iVBORw0KGgo="
WEATHER_TOOL = {
    "type": "function",
    "function": {
        "name": "get_weather",
        "parameters": {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]},
    },
}


def body(**fields: Any) -> dict[str, Any]:
    return {"model": "default", "messages": [USER], **fields}


def parse(data: Any):  # type: ignore[no-untyped-def]
    return ChatCompletionRequestSerializer.parse(data)


def refusal(data: Any) -> InvalidRequest:
    with pytest.raises(InvalidRequest) as caught:
        parse(data)
    return caught.value


# --- accepted ------------------------------------------------------------------------------


def test_a_minimal_request_parses_with_defaults() -> None:
    request = parse(body())
    assert request.model == "default"
    assert request.messages == (ChatMessage("user", "Hi"),)
    assert (request.stream, request.include_usage, request.max_tokens) == (False, False, None)
    assert (request.tools, request.tool_choice, request.response_format) == ((), None, None)
    assert request.parallel_tool_calls is True


@pytest.mark.parametrize(
    "name, value",
    [
        ("temperature", 0.2),
        ("top_p", 0.9),
        ("seed", 7),
        ("stop", "END"),
        ("stop", ["a", "b"]),
        ("frequency_penalty", 0.5),
        ("presence_penalty", -0.5),
        ("logit_bias", {"50256": -100}),
        ("store", False),
        ("service_tier", "auto"),
        ("user", "user-1"),
        ("metadata", {"team": "search"}),
        ("safety_identifier", "abc"),
        ("prompt_cache_key", "k"),
        ("prompt_cache_retention", "24h"),
        ("prompt_cache_options", {"ttl": "30m"}),
        ("verbosity", "low"),
        ("top_k", 40),
        ("min_p", 0.05),
        ("repetition_penalty", 1.1),
        ("chat_template_kwargs", {"foo": "bar"}),
        ("n", 1),
        ("logprobs", False),
        ("top_logprobs", 0),
        ("modalities", ["text"]),
        ("audio", None),
        ("prediction", None),
        ("web_search_options", None),
        ("stream_options", {}),
        ("stream_options", {"include_obfuscation": False}),
        ("parallel_tool_calls", True),
        ("reasoning_effort", "high"),
        ("response_format", {"type": "text"}),
        ("tool_choice", "auto"),
        ("max_tokens", None),
    ],
)
def test_parameters_accepted_and_ignored_do_not_fail_the_request(name: str, value: Any) -> None:
    parse(body(**{name: value}))


def test_stream_options_alone_do_not_turn_usage_on() -> None:
    assert parse(body(stream=True, stream_options={})).include_usage is False


def test_include_usage_is_read_from_stream_options() -> None:
    request = parse(body(stream=True, stream_options={"include_usage": True}))
    assert (request.stream, request.include_usage) == (True, True)


def test_max_completion_tokens_wins_over_legacy_max_tokens() -> None:
    assert parse(body(max_completion_tokens=50, max_tokens=10)).max_tokens == 50


def test_legacy_max_tokens_is_used_when_alone() -> None:
    assert parse(body(max_tokens=10)).max_tokens == 10


def test_every_message_role_and_content_shape_parses() -> None:
    messages = [
        {"role": "developer", "content": "Be brief."},
        {"role": "system", "content": [{"type": "text", "text": "Sys"}]},
        {
            "role": "user",
            "name": "ann",
            "content": [
                {"type": "text", "text": "What is this?"},
                {"type": "image_url", "image_url": {"url": PNG, "detail": "high"}},
            ],
        },
        {
            "role": "assistant",
            "content": None,
            "reasoning_content": "thinking...",
            "tool_calls": [{"id": "call_1", "type": "function", "function": {"name": "f", "arguments": '{"a":1}'}}],
        },
        {"role": "tool", "tool_call_id": "call_1", "content": [{"type": "text", "text": "42"}]},
        {"role": "assistant", "content": [{"type": "refusal", "refusal": "No."}]},
    ]
    request = parse(body(messages=messages))
    assert request.messages == (
        ChatMessage("developer", "Be brief."),
        ChatMessage("system", (TextContent("Sys"),)),
        ChatMessage("user", (TextContent("What is this?"), ImageContent(PNG))),
        ChatMessage("assistant", None, (AssistantToolCall("call_1", "f", '{"a":1}'),)),
        ChatMessage("tool", (TextContent("42"),), tool_call_id="call_1"),
        ChatMessage("assistant", (TextContent("No."),)),
    )


def test_replayed_tool_call_arguments_given_as_an_object_become_a_json_string() -> None:
    assistant = {
        "role": "assistant",
        "tool_calls": [{"id": "c", "type": "function", "function": {"name": "f", "arguments": {"a": 1}}}],
    }
    request = parse(body(messages=[USER, assistant]))
    assert request.messages[1].tool_calls == (AssistantToolCall("c", "f", '{"a":1}'),)


def test_text_is_never_trimmed() -> None:
    request = parse(body(messages=[{"role": "user", "content": [{"type": "text", "text": "  x \n"}]}]))
    assert request.messages[0].content == (TextContent("  x \n"),)


def test_tools_parse_into_function_definitions_reduced_for_paddler() -> None:
    schema = {"$schema": "http://json-schema.org/draft-07/schema#", "type": "object", "properties": {}}
    tool = {"type": "function", "function": {"name": "f", "description": "d", "parameters": schema, "strict": True}}
    reduced = {"type": "object", "properties": {}}
    assert parse(body(tools=[tool])).tools == (FunctionDefinition("f", "d", reduced),)


@pytest.mark.parametrize(
    "tool_choice, expected",
    [
        ("none", ToolChoice("none")),
        ("auto", ToolChoice("auto")),
        ("required", ToolChoice("required")),
        ({"type": "function", "function": {"name": "get_weather"}}, ToolChoice("required", ("get_weather",))),
        (
            {
                "type": "allowed_tools",
                "allowed_tools": {"mode": "auto", "tools": [{"type": "function", "function": {"name": "get_weather"}}]},
            },
            ToolChoice("auto", ("get_weather",)),
        ),
    ],
)
def test_tool_choice_forms_parse(tool_choice: Any, expected: ToolChoice) -> None:
    assert parse(body(tools=[WEATHER_TOOL], tool_choice=tool_choice)).tool_choice == expected


@pytest.mark.parametrize(
    "response_format, expected",
    [
        ({"type": "json_object"}, JsonObjectFormat()),
        (
            {"type": "json_schema", "json_schema": {"name": "answer", "strict": True, "schema": {"type": "object"}}},
            JsonSchemaFormat(name="answer", schema={"type": "object"}),
        ),
        (
            {"type": "json_schema", "json_schema": {"name": "answer"}},
            JsonSchemaFormat(name="answer", schema={"type": "object"}),
        ),
    ],
)
def test_response_formats_parse(response_format: Any, expected: Any) -> None:
    assert parse(body(response_format=response_format)).response_format == expected


def test_chat_template_kwargs_enable_thinking_is_kept() -> None:
    assert parse(body(chat_template_kwargs={"enable_thinking": False})).enable_thinking is False


def test_parallel_tool_calls_false_is_kept() -> None:
    assert parse(body(parallel_tool_calls=False)).parallel_tool_calls is False


# --- refused ---------------------------------------------------------------------------------


def test_an_unknown_parameter_is_refused_the_way_openai_does() -> None:
    error = refusal(body(thinking={"type": "enabled"}))
    assert (error.message, error.param, error.code) == ("Unrecognized request argument supplied: thinking", None, None)


def test_several_unknown_parameters_are_named_together() -> None:
    error = refusal(body(foo=1, bar=2))
    assert error.message == "Unrecognized request arguments supplied: foo, bar"


def test_a_body_that_is_not_an_object_is_refused() -> None:
    assert refusal([1, 2]).message == "The request body must be a JSON object."


@pytest.mark.parametrize(
    "data, param, code, message",
    [
        ({"messages": [USER]}, "model", "missing_required_parameter", "Missing required parameter: 'model'."),
        ({"model": "m"}, "messages", "missing_required_parameter", "Missing required parameter: 'messages'."),
        (body(messages=[]), "messages", "invalid_value", None),
        (body(n=2), "n", "unsupported_value", "Only one choice per request is supported (n must be 1)."),
        (body(logprobs=True), "logprobs", "unsupported_parameter", None),
        (body(top_logprobs=3), "top_logprobs", "unsupported_parameter", None),
        (body(modalities=["text", "audio"]), "modalities", "unsupported_value", None),
        (body(audio={"voice": "alloy", "format": "mp3"}), "audio", "unsupported_parameter", None),
        (body(web_search_options={}), "web_search_options", "unsupported_parameter", None),
        (body(prediction={"type": "content", "content": "x"}), "prediction", "unsupported_parameter", None),
        (body(moderation={"model": "x"}), "moderation", "unsupported_parameter", None),
        (body(functions=[{"name": "f"}]), "functions", "unsupported_parameter", None),
        (body(function_call="auto"), "function_call", "unsupported_parameter", None),
        (body(temperature="hot"), "temperature", "invalid_type", None),
        (body(temperature=3), "temperature", "invalid_value", None),
        (body(max_completion_tokens=0), "max_completion_tokens", "invalid_value", None),
        (body(stream="maybe"), "stream", "invalid_type", None),
        (body(reasoning_effort="extreme"), "reasoning_effort", "invalid_value", None),
        (body(metadata={str(i): "v" for i in range(17)}), "metadata", "invalid_value", None),
        (body(stop=[1]), "stop", "invalid_type", None),
    ],
)
def test_top_level_refusals_name_the_parameter(data: Any, param: str, code: str, message: str | None) -> None:
    error = refusal(data)
    assert (error.param, error.code) == (param, code)
    if message is not None:
        assert error.message == message


@pytest.mark.parametrize(
    "message, param, code",
    [
        ({"content": "x"}, "messages[1].role", "missing_required_parameter"),
        ({"role": "robot", "content": "x"}, "messages[1].role", "invalid_value"),
        ({"role": "user"}, "messages[1].content", "missing_required_parameter"),
        ({"role": "user", "content": None}, "messages[1].content", "missing_required_parameter"),
        ({"role": "user", "content": 5}, "messages[1].content", "invalid_type"),
        ({"role": "tool", "content": "42"}, "messages[1].tool_call_id", "missing_required_parameter"),
        ({"role": "function", "name": "f", "content": "x"}, "messages[1].role", "unsupported_parameter"),
        (
            {"role": "user", "content": "x", "tool_calls": [{"id": "c", "function": {"name": "f"}}]},
            "messages[1].tool_calls",
            "invalid_value",
        ),
        (
            {"role": "assistant", "content": "x", "function_call": {"name": "f"}},
            "messages[1].function_call",
            "unsupported_parameter",
        ),
        ({"role": "assistant", "content": None, "audio": {"id": "a"}}, "messages[1].audio", "unsupported_parameter"),
        (
            {"role": "assistant", "tool_calls": [{"id": "c", "function": {"arguments": "{}"}}]},
            "messages[1].tool_calls[0].function.name",
            "missing_required_parameter",
        ),
        (
            {"role": "user", "content": [{"type": "image_url", "image_url": {"url": "https://x/cat.png"}}]},
            "messages[1].content[0].image_url",
            "unsupported_value",
        ),
        (
            {
                "role": "user",
                "content": [
                    {"type": "text", "text": "a"},
                    {"type": "input_audio", "input_audio": {"data": "AAA", "format": "wav"}},
                ],
            },
            "messages[1].content[1]",
            "unsupported_value",
        ),
        (
            {"role": "user", "content": [{"type": "file", "file": {"file_id": "f"}}]},
            "messages[1].content[0]",
            "unsupported_value",
        ),
        ({"role": "user", "content": [{"type": "text"}]}, "messages[1].content[0].text", "missing_required_parameter"),
        ({"role": "user", "content": [{"type": "video"}]}, "messages[1].content[0].type", "invalid_value"),
        (
            {"role": "system", "content": [{"type": "image_url", "image_url": {"url": PNG}}]},
            "messages[1].content[0]",
            "invalid_value",
        ),
        (
            {"role": "user", "content": [{"type": "refusal", "refusal": "no"}]},
            "messages[1].content[0]",
            "invalid_value",
        ),
    ],
)
def test_message_refusals_name_the_offending_field(message: dict[str, Any], param: str, code: str) -> None:
    error = refusal(body(messages=[USER, message]))
    assert (error.param, error.code) == (param, code)


def test_a_remote_image_url_is_refused_with_a_reason() -> None:
    image = {"type": "image_url", "image_url": {"url": "https://example.com/cat.png"}}
    error = refusal(body(messages=[{"role": "user", "content": [image]}]))
    assert "data URI" in error.message and "remote image URLs" in error.message


@pytest.mark.parametrize(
    "tools, tool_choice, param, code",
    [
        ([{"type": "function"}], None, "tools[0].function", "missing_required_parameter"),
        ([{"type": "function", "function": {"name": "bad name"}}], None, "tools[0].function.name", "invalid_value"),
        ([{"type": "custom", "custom": {"name": "x"}}], None, "tools[0].type", "unsupported_value"),
        (
            [{"type": "function", "function": {"name": "f", "parameters": {"properties": {}, "required": ["a"]}}}],
            None,
            "tools[0].function.parameters.required[0]",
            "invalid_value",
        ),
        (
            [{"type": "function", "function": {"name": "f", "parameters": {"type": ["object"]}}}],
            None,
            "tools[0].function.parameters.type",
            "invalid_value",
        ),
        (
            [{"type": "function", "function": {"name": "f", "parameters": "nope"}}],
            None,
            "tools[0].function.parameters",
            "invalid_type",
        ),
        ([WEATHER_TOOL], {"type": "function", "function": {"name": "other"}}, "tool_choice", "invalid_value"),
        ([WEATHER_TOOL], {"type": "function"}, "tool_choice.function", "missing_required_parameter"),
        ([WEATHER_TOOL], "sometimes", "tool_choice", "invalid_type"),
        ([WEATHER_TOOL], {"type": "custom", "custom": {"name": "x"}}, "tool_choice.type", "unsupported_value"),
        (
            [WEATHER_TOOL],
            {"type": "allowed_tools", "allowed_tools": {"mode": "auto", "tools": [{"type": "function"}]}},
            "tool_choice.allowed_tools.tools[0]",
            "invalid_value",
        ),
        (
            [WEATHER_TOOL],
            {"type": "allowed_tools", "allowed_tools": {"mode": "maybe", "tools": []}},
            "tool_choice.allowed_tools.mode",
            "invalid_value",
        ),
        ([], "required", "tool_choice", "invalid_value"),
    ],
)
def test_tool_refusals_name_the_offending_field(tools: list[Any], tool_choice: Any, param: str, code: str) -> None:
    data = body(tools=tools) if tool_choice is None else body(tools=tools, tool_choice=tool_choice)
    error = refusal(data)
    assert (error.param, error.code) == (param, code)


def test_a_required_property_missing_from_properties_is_explained() -> None:
    tool = {"type": "function", "function": {"name": "f", "parameters": {"properties": {}, "required": ["absent"]}}}
    assert refusal(body(tools=[tool])).message.endswith(
        "Required field 'absent' is not defined in the tool's 'properties'."
    )


def test_json_schema_response_format_without_its_object_is_refused() -> None:
    error = refusal(body(response_format={"type": "json_schema"}))
    assert (error.param, error.code) == ("response_format.json_schema", "missing_required_parameter")


def test_a_type_error_message_names_the_parameter() -> None:
    assert refusal(body(temperature="hot")).message == "Invalid value for 'temperature': A valid number is required."
