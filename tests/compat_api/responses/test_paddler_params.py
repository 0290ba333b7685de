"""Responses requests in, the exact Paddler body out."""

from __future__ import annotations

from typing import Any

import pytest

from compat_api.errors import PayloadTooLarge
from compat_api.responses.paddler_params import build_paddler_params
from compat_api.responses.request_schema import ResponsesRequestSerializer


def paddler_body(**body: Any) -> dict[str, Any]:
    request = ResponsesRequestSerializer.parse({"model": "default", **body})
    return build_paddler_params(request, request.input).to_json()


WEATHER_TOOL = {
    "type": "function",
    "name": "get_weather",
    "description": "Weather for a city",
    "strict": True,
    "parameters": {
        "$schema": "http://json-schema.org/draft-07/schema#",
        "title": "Args",
        "description": "the arguments",
        "type": "object",
        "properties": {"city": {"type": "string"}},
        "required": ["city"],
        "additionalProperties": False,
    },
}
WEATHER_FUNCTION = {
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
}


def test_the_reference_example_translates_with_call_ids_kept(settings):
    settings.OARLOCK_DEFAULT_MAX_TOKENS = 2000
    body = paddler_body(
        instructions="Be brief.",
        input=[
            {"role": "user", "content": "Weather in Paris?"},
            {"type": "function_call", "call_id": "call_a81", "name": "get_weather", "arguments": '{"city":"Paris"}'},
            {"type": "function_call_output", "call_id": "call_a81", "output": "18C, clear"},
        ],
        tools=[WEATHER_TOOL],
        reasoning={"effort": "none"},
        max_output_tokens=300,
    )

    assert body == {
        "add_generation_prompt": True,
        "conversation_history": [
            {"role": "system", "content": "Be brief."},
            {"role": "user", "content": "Weather in Paris?"},
            {
                "role": "assistant",
                "content": '<tool_call>{"name": "get_weather", "arguments": {"city": "Paris"}, '
                '"id": "call_a81"}</tool_call>',
            },
            {
                "role": "tool",
                "content": '<tool_result tool_call_id="call_a81" name="get_weather">\n18C, clear\n</tool_result>',
            },
        ],
        "enable_thinking": False,
        "grammar": None,
        "max_tokens": 300,
        "parse_tool_calls": True,
        "tools": [WEATHER_FUNCTION],
    }


def test_max_tokens_defaults_to_the_setting(settings):
    settings.OARLOCK_DEFAULT_MAX_TOKENS = 1234

    assert paddler_body(input="Hi")["max_tokens"] == 1234


@pytest.mark.parametrize(
    ("reasoning", "thinking"),
    [
        (None, True),
        ({"effort": "none"}, False),
        ({"effort": "minimal"}, False),
        ({"effort": "low"}, True),
        ({"effort": "high"}, True),
        ({"summary": "auto"}, True),
    ],
)
def test_reasoning_effort_none_or_minimal_switches_thinking_off(reasoning: Any, thinking: bool):
    assert paddler_body(input="Hi", reasoning=reasoning)["enable_thinking"] is thinking


def test_json_schema_output_sends_a_grammar_and_switches_thinking_off():
    schema = {"type": "object", "properties": {"a": {"type": "integer"}}, "required": ["a"]}

    body = paddler_body(
        input="Hi",
        reasoning={"effort": "high"},
        text={"format": {"type": "json_schema", "name": "out", "schema": schema, "strict": True}},
    )

    assert body["grammar"] == {
        "type": "json_schema",
        "schema": '{"type":"object","properties":{"a":{"type":"integer"}},"required":["a"]}',
    }
    assert body["enable_thinking"] is False


def test_json_object_output_constrains_to_any_object_without_thinking():
    body = paddler_body(input="Hi", text={"format": {"type": "json_object"}})

    assert body["grammar"] == {"type": "json_schema", "schema": '{"type":"object"}'}
    assert body["enable_thinking"] is False


def test_plain_text_output_sends_no_grammar():
    assert paddler_body(input="Hi", text={"format": {"type": "text"}})["grammar"] is None


def test_tool_choice_none_shows_the_model_no_tools():
    body = paddler_body(input="Hi", tools=[WEATHER_TOOL], tool_choice="none")

    assert (body["tools"], body["parse_tool_calls"]) == ([], False)


def test_a_named_tool_choice_shows_only_that_tool():
    other = {"type": "function", "name": "other", "parameters": {"properties": {}}}

    body = paddler_body(
        input="Hi", tools=[other, WEATHER_TOOL], tool_choice={"type": "function", "name": "get_weather"}
    )

    assert body["tools"] == [WEATHER_FUNCTION]


def test_allowed_tools_shows_only_the_listed_tools():
    other = {"type": "function", "name": "other"}

    body = paddler_body(
        input="Hi",
        tools=[other, WEATHER_TOOL],
        tool_choice={"type": "allowed_tools", "mode": "auto", "tools": [{"type": "function", "name": "other"}]},
    )

    assert body["tools"] == [{"type": "function", "function": {"name": "other", "description": ""}}]


def test_parameters_without_type_describe_an_object():
    tool = {"type": "function", "name": "f", "parameters": {"properties": {"x": {"type": "string"}}}}

    function = paddler_body(input="Hi", tools=[tool])["tools"][0]["function"]

    assert function["parameters"] == {"type": "object", "properties": {"x": {"type": "string"}}}


def test_non_function_tools_do_not_reach_paddler():
    body = paddler_body(input="Hi", tools=[{"type": "web_search"}, {"type": "custom", "name": "x"}])

    assert (body["tools"], body["parse_tool_calls"]) == ([], False)


def test_a_body_over_the_upstream_limit_is_refused_before_sending(settings):
    settings.OARLOCK_UPSTREAM_MAX_BODY_BYTES = 1000

    with pytest.raises(PayloadTooLarge):
        paddler_body(input="x" * 1000)
