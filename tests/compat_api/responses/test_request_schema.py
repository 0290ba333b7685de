"""POST /v1/responses bodies in, ``ResponsesRequest`` values or exact 400s out."""

from __future__ import annotations

from typing import Any

import pytest

from compat_api.error_envelope import describe_error
from compat_api.responses.input_item import (
    FunctionCallItem,
    FunctionCallOutputItem,
    InputImage,
    InputText,
    MessageItem,
    OpaqueItem,
    OutputText,
    ReasoningItem,
)
from compat_api.responses.request import (
    FunctionToolSpec,
    ReasoningOptions,
    ToolChoice,
)
from compat_api.responses.request_schema import ResponsesRequestSerializer
from compat_api.structured_output_format import JsonObjectFormat, JsonSchemaFormat, PlainTextFormat

PNG = "data:image/png;base64,iVBORw0KGgo="


def parse(**body: Any):
    return ResponsesRequestSerializer.parse({"model": "default", **body})


def rejection(body: dict[str, Any]) -> tuple[int, str | None, str | None, str]:
    with pytest.raises(Exception) as caught:
        ResponsesRequestSerializer.parse(body)
    description = describe_error(caught.value)
    return description.status, description.param, description.code, description.message


def test_a_string_input_is_one_user_message():
    request = parse(input="Hi")

    assert request.input == (MessageItem("user", "Hi"),)
    assert request.store is True
    assert request.stream is False
    assert request.tool_choice == ToolChoice("auto", echo="auto")
    assert request.text_format == PlainTextFormat()


def test_messages_without_type_are_messages_and_text_is_kept_byte_for_byte():
    request = parse(input=[{"role": "developer", "content": "  Be terse.\n"}])

    assert request.input == (MessageItem("developer", "  Be terse.\n"),)


def test_the_js_tool_loop_replay_with_parsed_arguments_and_status_is_accepted():
    request = parse(
        input=[
            {"role": "user", "content": "Weather?"},
            {
                "type": "function_call",
                "id": "fc_abc",
                "call_id": "call_1",
                "name": "get_weather",
                "arguments": '{"city":"Paris"}',
                "status": "completed",
                "parsed_arguments": {"city": "Paris"},
            },
            {"type": "function_call_output", "call_id": "call_1", "output": "18C"},
        ]
    )

    assert request.input[1:] == (
        FunctionCallItem("call_1", "get_weather", '{"city":"Paris"}', id="fc_abc"),
        FunctionCallOutputItem("call_1", "18C"),
    )


def test_codex_items_with_ids_the_server_never_issued_are_kept_not_looked_up():
    request = parse(
        input=[
            {
                "type": "message",
                "id": "msg_0b5c9a1e-8c4f-4b43-9d7e-2f1a3c6d9e00",
                "role": "assistant",
                "content": [{"type": "output_text", "text": "Done."}],
                "phase": "final_answer",
            },
            {
                "type": "function_call_output",
                "id": "fco_7d3e1f00-0000-4000-8000-000000000000",
                "call_id": "call_9",
                "output": [{"type": "input_text", "text": "ok"}],
            },
            {"type": "reasoning", "summary": [], "encrypted_content": None},
            {"type": "web_search_call", "id": "ws_1", "status": "completed"},
        ]
    )

    assert request.input == (
        MessageItem(
            "assistant",
            (OutputText("Done."),),
            id="msg_0b5c9a1e-8c4f-4b43-9d7e-2f1a3c6d9e00",
            phase="final_answer",
        ),
        FunctionCallOutputItem("call_9", (InputText("ok"),), id="fco_7d3e1f00-0000-4000-8000-000000000000"),
        ReasoningItem(),
        OpaqueItem("web_search_call", {"status": "completed"}, id="ws_1"),
    )


def test_an_input_image_given_as_a_data_url_is_kept():
    request = parse(
        input=[
            {
                "role": "user",
                "content": [
                    {"type": "input_text", "text": "What is it?"},
                    {"type": "input_image", "image_url": PNG, "detail": "low"},
                ],
            }
        ]
    )

    assert request.input[0] == MessageItem("user", (InputText("What is it?"), InputImage(PNG, "low")))


def test_non_function_tools_are_skipped_and_function_tools_kept():
    request = parse(
        input="x",
        tools=[
            {"type": "web_search"},
            {"type": "custom", "name": "apply_patch", "format": {"type": "text"}},
            {"type": "namespace", "name": "mcp", "tools": []},
            {
                "type": "function",
                "name": "shell",
                "description": "Run a command",
                "parameters": {"type": "object", "properties": {}},
                "strict": False,
            },
        ],
    )

    assert request.tools == (
        FunctionToolSpec("shell", "Run a command", {"type": "object", "properties": {}}, strict=False),
    )


@pytest.mark.parametrize(
    ("tool_choice", "expected"),
    [
        ("none", ToolChoice("none", echo="none")),
        ("required", ToolChoice("required", echo="required")),
        (
            {"type": "function", "name": "f"},
            ToolChoice("required", ("f",), echo={"type": "function", "name": "f"}),
        ),
        (
            {"type": "allowed_tools", "mode": "auto", "tools": [{"type": "function", "name": "f"}]},
            ToolChoice(
                "auto",
                ("f",),
                echo={
                    "type": "allowed_tools",
                    "mode": "auto",
                    "tools": [{"type": "function", "name": "f"}],
                },
            ),
        ),
    ],
)
def test_tool_choice_forms(tool_choice: Any, expected: ToolChoice):
    tools = [{"type": "function", "name": "f", "parameters": None}]

    assert parse(input="x", tools=tools, tool_choice=tool_choice).tool_choice == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ({"format": {"type": "text"}}, PlainTextFormat()),
        ({"format": {"type": "json_object"}}, JsonObjectFormat()),
        (
            {
                "format": {
                    "type": "json_schema",
                    "name": "codex_output_schema",
                    "strict": True,
                    "schema": {"type": "object"},
                },
                "verbosity": "low",
            },
            JsonSchemaFormat(schema={"type": "object"}, name="codex_output_schema", strict=True),
        ),
    ],
)
def test_text_formats(text: dict[str, Any], expected: Any):
    assert parse(input="x", text=text).text_format == expected


def test_a_replayed_codex_request_is_accepted_whole():
    request = parse(
        instructions="You are Codex.",
        input=[{"type": "message", "role": "user", "content": [{"type": "input_text", "text": "hi"}]}],
        tools=[{"type": "function", "name": "shell", "parameters": {"type": "object"}}],
        tool_choice="auto",
        parallel_tool_calls=False,
        reasoning={"effort": "medium", "summary": "auto"},
        store=False,
        stream=True,
        include=["reasoning.encrypted_content"],
        prompt_cache_key="0199-abc",
        client_metadata={"originator": "codex_cli_rs"},
        text={"verbosity": "medium"},
    )

    assert request.store is False
    assert request.stream is True
    assert request.parallel_tool_calls is False
    assert request.reasoning == ReasoningOptions("medium", "auto")
    assert request.include == ("reasoning.encrypted_content",)
    assert request.prompt_cache_key == "0199-abc"


def test_every_parameter_of_the_current_sdk_is_recognised():
    body = {
        "model": "default",
        "input": "x",
        "access_programs": None,
        "background": False,
        "background_options": None,
        "context_management": None,
        "conversation": None,
        "image": None,
        "include": [],
        "instructions": None,
        "max_output_tokens": 16,
        "max_tool_calls": 3,
        "metadata": {"k": "v"},
        "moderation": None,
        "parallel_tool_calls": True,
        "previous_response_id": None,
        "prompt": None,
        "prompt_cache_key": "k",
        "prompt_cache_options": None,
        "prompt_cache_retention": "24h",
        "reasoning": None,
        "safety_identifier": "s",
        "service_tier": "auto",
        "store": True,
        "stream": False,
        "stream_options": {"include_obfuscation": False},
        "temperature": 0.2,
        "text": None,
        "tool_choice": None,
        "tools": None,
        "top_logprobs": 0,
        "top_p": 0.9,
        "truncation": "auto",
        "user": "u",
        "client_metadata": {"x": "y"},
    }

    request = ResponsesRequestSerializer.parse(body)

    assert (request.temperature, request.top_p, request.metadata) == (0.2, 0.9, {"k": "v"})
    assert (request.max_output_tokens, request.truncation, request.user) == (16, "auto", "u")


def test_the_probe_codex_sends_is_accepted():
    request = parse(input=[], max_output_tokens=1)

    assert (request.input, request.max_output_tokens) == ((), 1)


def test_previous_response_id_alone_is_enough():
    request = parse(previous_response_id="resp_1")

    assert (request.input, request.previous_response_id) == ((), "resp_1")


@pytest.mark.parametrize(
    ("body", "status", "param", "code"),
    [
        ({"model": "default", "input": "x", "foo": 1}, 400, "foo", "unknown_parameter"),
        ({"model": "default", "input": "x", "background": True}, 400, "background", "unsupported_value"),
        ({"model": "default", "input": "x", "conversation": "conv_1"}, 400, "conversation", "unsupported_parameter"),
        ({"model": "default", "input": "x", "prompt": {"id": "pmpt_1"}}, 400, "prompt", "unsupported_parameter"),
        ({"input": "x"}, 400, "model", "missing_required_parameter"),
        ({"model": "default"}, 400, "input", "missing_required_parameter"),
        ({"model": "default", "input": 5}, 400, "input", "invalid_type"),
        ({"model": "default", "input": "x", "stream": "yes"}, 400, "stream", "invalid_type"),
        ({"model": "default", "input": "x", "temperature": 3}, 400, "temperature", "invalid_value"),
        ({"model": "default", "input": "x", "max_output_tokens": 0}, 400, "max_output_tokens", "invalid_value"),
        ({"model": "default", "input": "x", "reasoning": {"effort": "huge"}}, 400, "reasoning.effort", "invalid_value"),
        (
            {"model": "default", "input": "x", "text": {"format": {"type": "json_schema", "name": "n"}}},
            400,
            "text.format.schema",
            "missing_required_parameter",
        ),
        (
            {
                "model": "default",
                "input": [{"role": "user", "content": [{"type": "input_image", "image_url": "https://x/y.png"}]}],
            },
            400,
            "input[0].content[0].image_url",
            "invalid_value",
        ),
        (
            {
                "model": "default",
                "input": [{"role": "user", "content": [{"type": "input_image", "file_id": "file_1"}]}],
            },
            400,
            "input[0].content[0].image_url",
            "invalid_value",
        ),
        (
            {
                "model": "default",
                "input": ["hi", {"role": "user", "content": [{"type": "input_file", "file_id": "f"}]}],
            },
            400,
            "input[0]",
            "invalid_type",
        ),
        (
            {
                "model": "default",
                "input": [
                    {"role": "user", "content": "ok"},
                    {"role": "user", "content": [{"type": "input_file", "file_id": "f"}]},
                ],
            },
            400,
            "input[1].content[0].type",
            "invalid_value",
        ),
        ({"model": "default", "input": [{"role": "robot", "content": "hi"}]}, 400, "input[0].role", "invalid_value"),
        (
            {"model": "default", "input": [{"type": "function_call", "call_id": "c", "arguments": "{}"}]},
            400,
            "input[0].name",
            "missing_required_parameter",
        ),
        (
            {"model": "default", "input": [{"type": "item_reference", "id": "msg_1"}]},
            400,
            "input[0].type",
            "invalid_value",
        ),
        ({"model": "default", "input": [{"content": "no role"}]}, 400, "input[0].type", "missing_required_parameter"),
        (
            {"model": "default", "input": "x", "tools": [{"type": "function"}]},
            400,
            "tools[0].name",
            "missing_required_parameter",
        ),
        (
            {"model": "default", "input": "x", "tool_choice": {"type": "file_search"}},
            400,
            "tool_choice.type",
            "invalid_value",
        ),
        (
            {"model": "default", "input": "x", "tool_choice": {"type": "function", "name": "nope"}},
            400,
            "tool_choice.name",
            "invalid_value",
        ),
        ({"model": "default", "input": "x", "metadata": {"k": 1}}, 400, "metadata", "invalid_type"),
    ],
)
def test_invalid_bodies_are_400s_naming_the_field(body: dict[str, Any], status: int, param: str, code: str):
    assert rejection(body)[:3] == (status, param, code)


def test_an_unknown_parameter_is_named_like_openai_names_it():
    assert rejection({"model": "default", "input": "x", "foo": 1}) == (
        400,
        "foo",
        "unknown_parameter",
        "Unknown parameter: 'foo'.",
    )


def test_refusals_say_why():
    message = rejection({"model": "default", "input": "x", "background": True})[3]

    assert "Background responses are not supported" in message
