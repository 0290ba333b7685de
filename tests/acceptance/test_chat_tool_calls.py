"""Tool calls through the SDK: one and several, streamed and not, and a tool loop's next turn."""

from __future__ import annotations

import json
import re
from typing import Any

import openai

from tests.fake_paddler import FakePaddlerServer
from tests.fake_paddler_scripts import (
    one_tool_call,
    several_tool_calls_in_one_batch,
    tool_call,
    tool_call_batches,
    two_tool_call_batches,
)

USER = [{"role": "user", "content": "Weather in Paris?"}]


def function_tool(name: str, properties: dict[str, Any], *, strict: bool = False) -> dict[str, Any]:
    return {
        "type": "function",
        "function": {
            "name": name,
            "description": f"{name} tool",
            "strict": strict,
            "parameters": {
                "type": "object",
                "properties": properties,
                "required": list(properties),
                "additionalProperties": False,
            },
        },
    }


WEATHER = function_tool("get_weather", {"city": {"type": "string"}})
TIME = function_tool("get_time", {"zone": {"type": "string"}})


def test_one_tool_call_is_a_tool_calls_message(openai_client: openai.OpenAI, fake_paddler: FakePaddlerServer) -> None:
    fake_paddler.script(one_tool_call("get_weather", {"city": "Paris"}, call_id="call_abc"))
    completion = openai_client.chat.completions.create(model="default", messages=USER, tools=[WEATHER])
    choice = completion.choices[0]
    assert choice.finish_reason == "tool_calls"
    assert choice.message.content is None
    assert choice.message.tool_calls is not None
    [call] = choice.message.tool_calls
    assert (call.id, call.type, call.function.name) == ("call_abc", "function", "get_weather")
    assert json.loads(call.function.arguments) == {"city": "Paris"}


def test_tools_reach_paddler_reduced_and_with_parsing_on(
    openai_client: openai.OpenAI, fake_paddler: FakePaddlerServer
) -> None:
    tool = {
        "type": "function",
        "function": {
            "name": "get_weather",
            "parameters": {
                "$schema": "http://json-schema.org/draft-07/schema#",
                "title": "GetWeather",
                "properties": {"city": {"type": "string"}},
                "required": ["city"],
            },
        },
    }
    openai_client.chat.completions.create(model="default", messages=USER, tools=[tool], tool_choice="auto")
    body = fake_paddler.last_body
    assert body is not None
    assert body["parse_tool_calls"] is True
    assert body["tools"] == [
        {
            "type": "function",
            "function": {
                "name": "get_weather",
                "description": "",
                "parameters": {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]},
            },
        }
    ]


def test_tool_choice_none_sends_no_tools(openai_client: openai.OpenAI, fake_paddler: FakePaddlerServer) -> None:
    openai_client.chat.completions.create(model="default", messages=USER, tools=[WEATHER, TIME], tool_choice="none")
    assert fake_paddler.last_body is not None
    assert (fake_paddler.last_body["tools"], fake_paddler.last_body["parse_tool_calls"]) == ([], False)


def test_a_named_tool_choice_sends_only_that_tool(
    openai_client: openai.OpenAI, fake_paddler: FakePaddlerServer
) -> None:
    openai_client.chat.completions.create(
        model="default",
        messages=USER,
        tools=[WEATHER, TIME],
        tool_choice={"type": "function", "function": {"name": "get_time"}},
    )
    assert fake_paddler.last_body is not None
    assert [tool["function"]["name"] for tool in fake_paddler.last_body["tools"]] == ["get_time"]


def test_several_calls_in_one_batch_keep_their_order(
    openai_client: openai.OpenAI, fake_paddler: FakePaddlerServer
) -> None:
    fake_paddler.script(several_tool_calls_in_one_batch())
    message = openai_client.chat.completions.create(model="default", messages=USER, tools=[WEATHER]).choices[0].message
    assert message.tool_calls is not None
    assert [(c.id, json.loads(c.function.arguments)) for c in message.tool_calls] == [
        ("call_1", {"city": "Paris"}),
        ("call_2", {"city": "Berlin"}),
    ]


def test_streamed_calls_from_two_batches_get_indices_0_and_1(
    openai_client: openai.OpenAI, fake_paddler: FakePaddlerServer
) -> None:
    fake_paddler.script(two_tool_call_batches())
    chunks = list(
        openai_client.chat.completions.create(model="default", messages=USER, tools=[WEATHER, TIME], stream=True)
    )
    first = chunks[0].choices[0].delta
    assert (first.role, first.content, first.tool_calls) == ("assistant", None, None)
    deltas = [call for chunk in chunks for call in (chunk.choices[0].delta.tool_calls or [])]
    assert [(d.index, d.id, d.type, d.function and d.function.name) for d in deltas] == [
        (0, "call_1", "function", "get_weather"),
        (1, "call_2", "function", "get_time"),
    ]
    assert [json.loads(d.function.arguments or "") for d in deltas if d.function] == [
        {"city": "Paris"},
        {"zone": "CET"},
    ]
    assert chunks[-1].choices[0].finish_reason == "tool_calls"
    assert chunks[-1].choices[0].delta.tool_calls is None


def test_a_streamed_call_arrives_whole_in_one_delta(
    openai_client: openai.OpenAI, fake_paddler: FakePaddlerServer
) -> None:
    fake_paddler.script(one_tool_call())
    chunks = list(openai_client.chat.completions.create(model="default", messages=USER, tools=[WEATHER], stream=True))
    with_calls = [chunk for chunk in chunks if chunk.choices[0].delta.tool_calls]
    assert len(with_calls) == 1


def test_empty_tool_call_ids_are_replaced_by_generated_ones(
    openai_client: openai.OpenAI, fake_paddler: FakePaddlerServer
) -> None:
    fake_paddler.script(tool_call_batches([tool_call("get_weather", {"city": "Oslo"}, call_id="")]))
    message = openai_client.chat.completions.create(model="default", messages=USER, tools=[WEATHER]).choices[0].message
    assert message.tool_calls is not None
    assert re.fullmatch(r"call_[A-Za-z0-9]{24}", message.tool_calls[0].id)


def test_the_stream_helper_builds_un_doubled_tool_calls(
    openai_client: openai.OpenAI, fake_paddler: FakePaddlerServer
) -> None:
    fake_paddler.script(two_tool_call_batches())
    strict_tools: Any = [
        function_tool("get_weather", {"city": {"type": "string"}}, strict=True),
        function_tool("get_time", {"zone": {"type": "string"}}, strict=True),
    ]
    with openai_client.chat.completions.stream(model="default", messages=USER, tools=strict_tools) as stream:
        final = stream.get_final_completion()
    message = final.choices[0].message
    assert message.role == "assistant"
    assert message.tool_calls is not None
    assert [(c.id, c.function.name, c.function.parsed_arguments) for c in message.tool_calls] == [
        ("call_1", "get_weather", {"city": "Paris"}),
        ("call_2", "get_time", {"zone": "CET"}),
    ]
    assert final.choices[0].finish_reason == "tool_calls"


async def test_the_async_client_streams_tool_calls(
    async_openai_client: openai.AsyncOpenAI, fake_paddler: FakePaddlerServer
) -> None:
    fake_paddler.script(two_tool_call_batches())
    stream = await async_openai_client.chat.completions.create(
        model="default", messages=USER, tools=[WEATHER, TIME], stream=True
    )
    indices = [call.index async for chunk in stream for call in (chunk.choices[0].delta.tool_calls or [])]
    assert indices == [0, 1]


def test_text_before_a_call_is_kept(openai_client: openai.OpenAI, fake_paddler: FakePaddlerServer) -> None:
    fake_paddler.script(one_tool_call(content_before=["Let me ", "check."]))
    message = openai_client.chat.completions.create(model="default", messages=USER, tools=[WEATHER]).choices[0].message
    assert message.content == "Let me check."
    assert message.tool_calls is not None and len(message.tool_calls) == 1


def test_a_tool_loops_second_turn_shows_the_model_its_call_and_the_result(
    openai_client: openai.OpenAI, fake_paddler: FakePaddlerServer
) -> None:
    fake_paddler.script(one_tool_call("get_weather", {"city": "Paris"}, call_id="call_abc"))
    first = openai_client.chat.completions.create(model="default", messages=USER, tools=[WEATHER]).choices[0].message
    assert first.tool_calls is not None
    messages: list[Any] = [
        *USER,
        first.model_dump(exclude_none=True, exclude={"annotations"}) | {"content": None},
        {"role": "tool", "tool_call_id": first.tool_calls[0].id, "content": '{"temp": 18}'},
    ]
    completion = openai_client.chat.completions.create(model="default", messages=messages, tools=[WEATHER])
    assert completion.choices[0].message.content == "Hello from Paddler"
    assert fake_paddler.last_body is not None
    assert fake_paddler.last_body["conversation_history"] == [
        {"role": "user", "content": "Weather in Paris?"},
        {
            "role": "assistant",
            "content": '<tool_call>{"name": "get_weather", "arguments": {"city": "Paris"}, "id": "call_abc"}</tool_call>',
        },
        {
            "role": "tool",
            "content": '<tool_result tool_call_id="call_abc" name="get_weather">\n{"temp": 18}\n</tool_result>',
        },
    ]


def test_parallel_tool_calls_false_relays_only_the_first_call(
    openai_client: openai.OpenAI, fake_paddler: FakePaddlerServer
) -> None:
    fake_paddler.script(two_tool_call_batches())
    message = (
        openai_client.chat.completions.create(
            model="default", messages=USER, tools=[WEATHER, TIME], parallel_tool_calls=False
        )
        .choices[0]
        .message
    )
    assert message.tool_calls is not None
    assert [call.id for call in message.tool_calls] == ["call_1"]
