"""Chat requests in, the exact Paddler body out."""

from __future__ import annotations

from typing import Any

import pytest

from compat_api.chat.paddler_params import build_paddler_params
from compat_api.chat.request_schema import ChatCompletionRequestSerializer
from compat_api.errors import PayloadTooLarge

PNG = "data:image/png;base64,iVBORw0KGgo="
WEATHER = {
    "type": "function",
    "function": {
        "name": "get_weather",
        "description": "Weather for a city",
        "parameters": {
            "$schema": "http://json-schema.org/draft-07/schema#",
            "title": "GetWeather",
            "description": "args",
            "strict": True,
            "type": "object",
            "properties": {"city": {"type": "string"}},
            "required": ["city"],
            "additionalProperties": False,
        },
    },
}
TIME = {"type": "function", "function": {"name": "get_time", "parameters": {"properties": {"zone": {}}}}}


def paddler_body(**fields: Any) -> dict[str, Any]:
    data = {"model": "default", "messages": [{"role": "user", "content": "Hi"}], **fields}
    return build_paddler_params(ChatCompletionRequestSerializer.parse(data)).to_json()


def history(*messages: dict[str, Any]) -> list[dict[str, Any]]:
    conversation: list[dict[str, Any]] = paddler_body(messages=list(messages))["conversation_history"]
    return conversation


def test_a_plain_request_becomes_paddlers_exact_default_body() -> None:
    assert paddler_body() == {
        "add_generation_prompt": True,
        "conversation_history": [{"role": "user", "content": "Hi"}],
        "enable_thinking": True,
        "grammar": None,
        "max_tokens": 2000,
        "parse_tool_calls": False,
        "tools": [],
    }


def test_the_default_max_tokens_is_a_setting(settings: Any) -> None:
    settings.OARLOCK_DEFAULT_MAX_TOKENS = 123
    assert paddler_body()["max_tokens"] == 123


@pytest.mark.parametrize(
    "fields, expected",
    [
        ({"max_completion_tokens": 64}, 64),
        ({"max_tokens": 32}, 32),
        ({"max_completion_tokens": 64, "max_tokens": 32}, 64),
    ],
)
def test_max_tokens_comes_from_max_completion_tokens_or_the_legacy_name(fields: dict[str, Any], expected: int) -> None:
    assert paddler_body(**fields)["max_tokens"] == expected


def test_developer_becomes_system() -> None:
    assert history({"role": "developer", "content": "Rules"}, {"role": "user", "content": "Hi"})[0] == {
        "role": "system",
        "content": "Rules",
    }


def test_only_role_and_content_reach_paddler() -> None:
    messages = [
        {"role": "user", "name": "ann", "content": "Hi"},
        {"role": "assistant", "content": "Hello", "reasoning_content": "...", "refusal": None, "name": "bot"},
    ]
    assert history(*messages) == [{"role": "user", "content": "Hi"}, {"role": "assistant", "content": "Hello"}]


def test_assistant_null_content_without_tool_calls_becomes_an_empty_string() -> None:
    assert history({"role": "user", "content": "Hi"}, {"role": "assistant", "content": None})[1] == {
        "role": "assistant",
        "content": "",
    }


def test_image_parts_are_reduced_to_their_url() -> None:
    content = [{"type": "text", "text": "What?"}, {"type": "image_url", "image_url": {"url": PNG, "detail": "low"}}]
    assert history({"role": "user", "content": content}) == [
        {
            "role": "user",
            "content": [{"type": "text", "text": "What?"}, {"type": "image_url", "image_url": {"url": PNG}}],
        }
    ]


def test_text_only_part_arrays_become_plain_text() -> None:
    content = [{"type": "text", "text": "a"}, {"type": "text", "text": "b"}]
    assert history({"role": "user", "content": content}) == [{"role": "user", "content": "ab"}]


def test_consecutive_same_role_messages_are_merged_with_a_blank_line() -> None:
    messages = [
        {"role": "system", "content": "One"},
        {"role": "developer", "content": "Two"},
        {"role": "user", "content": "A"},
        {"role": "user", "content": [{"type": "text", "text": "B"}]},
    ]
    assert history(*messages) == [{"role": "system", "content": "One\n\nTwo"}, {"role": "user", "content": "A\n\nB"}]


def test_merging_a_text_turn_with_an_image_turn_keeps_the_image() -> None:
    image = {"type": "image_url", "image_url": {"url": PNG}}
    messages = [
        {"role": "user", "content": "Look"},
        {"role": "user", "content": [{"type": "text", "text": "here"}, image]},
    ]
    assert history(*messages) == [
        {
            "role": "user",
            "content": [{"type": "text", "text": "Look\n\nhere"}, {"type": "image_url", "image_url": {"url": PNG}}],
        }
    ]


def test_earlier_tool_calls_are_rendered_into_the_assistant_turn_and_results_are_paired() -> None:
    messages = [
        {"role": "user", "content": "Weather in Paris and time in CET?"},
        {
            "role": "assistant",
            "content": "Checking.",
            "tool_calls": [
                {
                    "id": "call_1",
                    "type": "function",
                    "function": {"name": "get_weather", "arguments": '{"city":"Paris"}'},
                },
                {"id": "call_2", "type": "function", "function": {"name": "get_time", "arguments": "not json"}},
            ],
        },
        {"role": "tool", "tool_call_id": "call_1", "content": "18C"},
        {"role": "tool", "tool_call_id": "call_2", "content": "12:00"},
    ]
    assert history(*messages) == [
        {"role": "user", "content": "Weather in Paris and time in CET?"},
        {
            "role": "assistant",
            "content": 'Checking.\n\n<tool_call>{"name": "get_weather", "arguments": {"city": "Paris"}, "id": "call_1"}'
            '</tool_call>\n<tool_call>{"name": "get_time", "arguments": "not json", "id": "call_2"}</tool_call>',
        },
        {"role": "tool", "content": '<tool_result tool_call_id="call_1" name="get_weather">\n18C\n</tool_result>'},
        {"role": "tool", "content": '<tool_result tool_call_id="call_2" name="get_time">\n12:00\n</tool_result>'},
    ]


def test_an_assistant_turn_with_only_tool_calls_is_just_the_calls() -> None:
    messages = [
        {"role": "user", "content": "Hi"},
        {
            "role": "assistant",
            "content": None,
            "tool_calls": [{"id": "c", "type": "function", "function": {"name": "f", "arguments": "{}"}}],
        },
    ]
    assert history(*messages)[1]["content"] == '<tool_call>{"name": "f", "arguments": {}, "id": "c"}</tool_call>'


def test_a_tool_result_without_a_known_call_still_carries_its_id() -> None:
    messages = [{"role": "user", "content": "Hi"}, {"role": "tool", "tool_call_id": "x", "content": "r"}]
    assert history(*messages)[1] == {"role": "tool", "content": '<tool_result tool_call_id="x">\nr\n</tool_result>'}


def test_tools_are_reduced_to_what_paddler_accepts_and_turn_on_parsing() -> None:
    body = paddler_body(tools=[WEATHER, TIME])
    assert body["parse_tool_calls"] is True
    assert body["tools"] == [
        {
            "type": "function",
            "function": {
                "name": "get_weather",
                "description": "Weather for a city",
                "parameters": {
                    "type": "object",
                    "properties": {"city": {"type": "string"}},
                    "required": ["city"],
                    "additionalProperties": False,
                },
            },
        },
        {
            "type": "function",
            "function": {
                "name": "get_time",
                "description": "",
                "parameters": {"type": "object", "properties": {"zone": {}}},
            },
        },
    ]


def test_a_tool_without_parameters_sends_none() -> None:
    tool = {"type": "function", "function": {"name": "ping"}}
    assert paddler_body(tools=[tool])["tools"] == [
        {"type": "function", "function": {"name": "ping", "description": ""}}
    ]


@pytest.mark.parametrize(
    "tool_choice, names",
    [
        ("none", []),
        ("auto", ["get_weather", "get_time"]),
        ("required", ["get_weather", "get_time"]),
        ({"type": "function", "function": {"name": "get_time"}}, ["get_time"]),
        (
            {
                "type": "allowed_tools",
                "allowed_tools": {
                    "mode": "required",
                    "tools": [{"type": "function", "function": {"name": "get_weather"}}],
                },
            },
            ["get_weather"],
        ),
    ],
)
def test_tool_choice_decides_which_tools_are_sent(tool_choice: Any, names: list[str]) -> None:
    body = paddler_body(tools=[WEATHER, TIME], tool_choice=tool_choice)
    assert [tool["function"]["name"] for tool in body["tools"]] == names
    assert body["parse_tool_calls"] is bool(names)


def test_json_schema_response_format_becomes_a_grammar_with_thinking_off() -> None:
    schema = {"type": "object", "properties": {"answer": {"type": "string"}}, "required": ["answer"]}
    body = paddler_body(
        response_format={"type": "json_schema", "json_schema": {"name": "a", "strict": True, "schema": schema}}
    )
    assert body["grammar"] == {
        "type": "json_schema",
        "schema": '{"type":"object","properties":{"answer":{"type":"string"}},"required":["answer"]}',
    }
    assert body["enable_thinking"] is False


def test_json_object_response_format_becomes_a_generic_object_grammar() -> None:
    body = paddler_body(response_format={"type": "json_object"})
    assert (body["grammar"], body["enable_thinking"]) == ({"type": "json_schema", "schema": '{"type":"object"}'}, False)


def test_text_response_format_sends_no_grammar() -> None:
    body = paddler_body(response_format={"type": "text"})
    assert (body["grammar"], body["enable_thinking"]) == (None, True)


@pytest.mark.parametrize(
    "fields, thinking",
    [
        ({"reasoning_effort": "none"}, False),
        ({"reasoning_effort": "minimal"}, False),
        ({"reasoning_effort": "low"}, True),
        ({"reasoning_effort": "high"}, True),
        ({"chat_template_kwargs": {"enable_thinking": False}}, False),
        ({"chat_template_kwargs": {"enable_thinking": True}, "reasoning_effort": "none"}, False),
        ({"chat_template_kwargs": {"enable_thinking": "no"}}, True),
    ],
)
def test_reasoning_effort_and_template_kwargs_switch_thinking(fields: dict[str, Any], thinking: bool) -> None:
    assert paddler_body(**fields)["enable_thinking"] is thinking


def test_a_conversation_over_the_upstream_limit_is_refused_with_413(settings: Any) -> None:
    settings.OARLOCK_UPSTREAM_MAX_BODY_BYTES = 1000
    with pytest.raises(PayloadTooLarge) as caught:
        paddler_body(messages=[{"role": "user", "content": "x" * 2000}])
    assert "limit is 1000 bytes" in caught.value.message


def test_a_conversation_just_under_the_limit_passes(settings: Any) -> None:
    settings.OARLOCK_UPSTREAM_MAX_BODY_BYTES = 2 * 1024 * 1024
    paddler_body(messages=[{"role": "user", "content": "x" * (2 * 1024 * 1024 - 500)}])
