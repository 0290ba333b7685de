"""POST /v1/responses through the official SDK against the fake Paddler: what clients get back,
and the exact body Paddler receives."""

from __future__ import annotations

import json
from typing import Any

import openai
import pydantic

from tests.fake_paddler import FakePaddlerServer
from tests.fake_paddler_scripts import (
    one_tool_call,
    plain_content,
    reasoning_then_content,
    several_tool_calls_in_one_batch,
    tool_call,
    tool_call_batches,
)

WEATHER_TOOL: Any = {
    "type": "function",
    "name": "get_weather",
    "description": "Current weather",
    "parameters": {
        "type": "object",
        "properties": {"city": {"type": "string"}},
        "required": ["city"],
        "additionalProperties": False,
    },
    "strict": True,
}


def test_a_text_answer_is_one_completed_response(openai_client: openai.OpenAI, fake_paddler: FakePaddlerServer) -> None:
    fake_paddler.script(plain_content("Hello", " from", " Paddler"))

    response = openai_client.responses.create(model="default", input="Hi")

    assert response.id.startswith("resp_")
    assert (response.object, response.status, response.model) == ("response", "completed", "default")
    assert response.output_text == "Hello from Paddler"
    [message] = response.output
    assert message.type == "message" and message.id.startswith("msg_")
    assert message.status == "completed"
    assert response.usage is not None
    assert response.usage.model_dump(exclude_none=True) == {
        "input_tokens": 12,
        "input_tokens_details": {"cached_tokens": 0},
        "output_tokens": 3,
        "output_tokens_details": {"reasoning_tokens": 0},
        "total_tokens": 15,
    }


def test_the_request_reaches_paddler_as_its_exact_body(
    openai_client: openai.OpenAI, fake_paddler: FakePaddlerServer
) -> None:
    fake_paddler.script(plain_content("ok"))

    openai_client.responses.create(
        model="default",
        instructions="Be brief.",
        input=[
            {"role": "developer", "content": "Answer in French."},
            {"role": "user", "content": [{"type": "input_text", "text": "Weather?"}]},
        ],
        max_output_tokens=300,
        temperature=0.2,
    )

    assert fake_paddler.last_body == {
        "add_generation_prompt": True,
        "conversation_history": [
            {"role": "system", "content": "Be brief.\n\nAnswer in French."},
            {"role": "user", "content": "Weather?"},
        ],
        "enable_thinking": True,
        "grammar": None,
        "max_tokens": 300,
        "parse_tool_calls": False,
        "tools": [],
    }


def test_the_response_echoes_what_the_request_set(
    openai_client: openai.OpenAI, fake_paddler: FakePaddlerServer
) -> None:
    fake_paddler.script(plain_content("ok"))

    response = openai_client.responses.create(
        model="default",
        input="Hi",
        instructions="Be brief.",
        tools=[WEATHER_TOOL, {"type": "web_search"}],
        tool_choice="auto",
        temperature=0.2,
        top_p=0.9,
        max_output_tokens=64,
        metadata={"ticket": "T-1"},
        reasoning={"effort": "low"},
        parallel_tool_calls=False,
        user="u-1",
    )

    assert response.instructions == "Be brief."
    # The function tool as sent; web_search is not run here, so it is not echoed as applied.
    assert [tool.model_dump(exclude_none=True) for tool in response.tools] == [WEATHER_TOOL]
    assert (response.temperature, response.top_p, response.max_output_tokens) == (0.2, 0.9, 64)
    assert (response.metadata, response.user, response.parallel_tool_calls) == ({"ticket": "T-1"}, "u-1", False)
    assert response.reasoning is not None and response.reasoning.effort == "low"
    assert (response.tool_choice, response.store, response.truncation) == ("auto", True, "disabled")


def test_streaming_relays_every_delta_and_the_helper_accumulates_the_message(
    openai_client: openai.OpenAI, fake_paddler: FakePaddlerServer
) -> None:
    fake_paddler.script(plain_content("Hello", " from", " Paddler"))

    with openai_client.responses.stream(model="default", input="Hi") as stream:
        deltas = [event.delta for event in stream if event.type == "response.output_text.delta"]
        final = stream.get_final_response()

    assert deltas == ["Hello", " from", " Paddler"]
    assert final.status == "completed"
    assert final.output_text == "Hello from Paddler"


async def test_the_async_stream_helper_gets_the_same_answer(
    async_openai_client: openai.AsyncOpenAI, fake_paddler: FakePaddlerServer
) -> None:
    fake_paddler.script(plain_content("Hello", "!"))

    async with async_openai_client.responses.stream(model="default", input="Hi") as stream:
        final = await stream.get_final_response()

    assert final.output_text == "Hello!"


def test_reasoning_is_a_reasoning_item_before_the_message(
    openai_client: openai.OpenAI, fake_paddler: FakePaddlerServer
) -> None:
    fake_paddler.script(reasoning_then_content(["Let me ", "think."], ["Four."]))

    response = openai_client.responses.create(model="default", input="2+2?")

    reasoning, message = response.output
    assert reasoning.type == "reasoning" and reasoning.id.startswith("rs_")
    assert reasoning.summary == []
    assert [part.model_dump() for part in reasoning.content or []] == [
        {"type": "reasoning_text", "text": "Let me think."}
    ]
    assert response.output_text == "Four."
    assert response.usage is not None
    assert response.usage.output_tokens_details.reasoning_tokens == 2
    assert response.usage.output_tokens == 3


def test_streamed_reasoning_arrives_as_reasoning_text_deltas(
    openai_client: openai.OpenAI, fake_paddler: FakePaddlerServer
) -> None:
    fake_paddler.script(reasoning_then_content(["Let me ", "think."], ["Four."]))

    with openai_client.responses.stream(model="default", input="2+2?") as stream:
        events = list(stream)

    assert [event.delta for event in events if event.type == "response.reasoning_text.delta"] == [
        "Let me ",
        "think.",
    ]
    assert [event.delta for event in events if event.type == "response.output_text.delta"] == ["Four."]


def test_a_function_call_is_a_complete_function_call_item(
    openai_client: openai.OpenAI, fake_paddler: FakePaddlerServer
) -> None:
    fake_paddler.script(one_tool_call("get_weather", {"city": "Paris"}, call_id="call_a81"))

    response = openai_client.responses.create(model="default", input="Weather in Paris?", tools=[WEATHER_TOOL])

    [call] = response.output
    assert call.type == "function_call" and call.id.startswith("fc_")
    assert (call.call_id, call.name, call.arguments, call.status) == (
        "call_a81",
        "get_weather",
        '{"city":"Paris"}',
        "completed",
    )
    assert fake_paddler.last_body is not None
    assert fake_paddler.last_body["parse_tool_calls"] is True
    assert fake_paddler.last_body["tools"] == [
        {
            "type": "function",
            "function": {
                "name": "get_weather",
                "description": "Current weather",
                "parameters": WEATHER_TOOL["parameters"],
            },
        }
    ]


def test_several_function_calls_stream_as_separate_items(
    openai_client: openai.OpenAI, fake_paddler: FakePaddlerServer
) -> None:
    fake_paddler.script(several_tool_calls_in_one_batch())

    with openai_client.responses.stream(model="default", input="Paris and Berlin?", tools=[WEATHER_TOOL]) as stream:
        done = [event.item for event in stream if event.type == "response.output_item.done"]
        final = stream.get_final_response()

    assert [(item.type, item.call_id, item.arguments) for item in final.output] == [
        ("function_call", "call_1", '{"city":"Paris"}'),
        ("function_call", "call_2", '{"city":"Berlin"}'),
    ]
    assert [item.id for item in final.output] == [item.id for item in done]
    assert len({item.id for item in final.output}) == 2


def test_text_then_calls_in_two_batches_keep_the_models_order(
    openai_client: openai.OpenAI, fake_paddler: FakePaddlerServer
) -> None:
    fake_paddler.script(
        tool_call_batches(
            [tool_call("get_weather", {"city": "Paris"}, "")],
            [tool_call("get_weather", {"city": "Rome"}, "")],
            content_before=["Checking."],
        )
    )

    response = openai_client.responses.create(model="default", input="Paris, Rome?", tools=[WEATHER_TOOL])

    assert [item.type for item in response.output] == ["message", "function_call", "function_call"]
    call_ids = [item.call_id for item in response.output[1:]]  # type: ignore[union-attr]
    assert all(call_id.startswith("call_") for call_id in call_ids)
    assert len(set(call_ids)) == 2


def test_a_function_call_round_trip_shows_the_model_the_call_and_its_result(
    openai_client: openai.OpenAI, fake_paddler: FakePaddlerServer
) -> None:
    fake_paddler.script(one_tool_call("get_weather", {"city": "Paris"}, call_id="call_a81"))
    first = openai_client.responses.create(
        model="default", input="Weather in Paris?", tools=[WEATHER_TOOL], store=False
    )
    fake_paddler.script(plain_content("18C and clear."))

    # The documented loop: send the output back as it came (the JS SDK adds parsed_arguments).
    replayed = [{**item.model_dump(exclude_none=True), "parsed_arguments": {"city": "Paris"}} for item in first.output]
    second = openai_client.responses.create(
        model="default",
        input=[
            {"role": "user", "content": "Weather in Paris?"},
            *replayed,
            {"type": "function_call_output", "call_id": "call_a81", "output": "18C, clear"},
        ],
        tools=[WEATHER_TOOL],
        store=False,
    )

    assert second.output_text == "18C and clear."
    assert fake_paddler.last_body is not None
    assert fake_paddler.last_body["conversation_history"] == [
        {"role": "user", "content": "Weather in Paris?"},
        {
            "role": "assistant",
            "content": '<tool_call>{"name": "get_weather", "arguments": {"city": "Paris"}, "id": "call_a81"}</tool_call>',
        },
        {
            "role": "tool",
            "content": '<tool_result tool_call_id="call_a81" name="get_weather">\n18C, clear\n</tool_result>',
        },
    ]


def test_replayed_assistant_output_text_reaches_the_model(
    openai_client: openai.OpenAI, fake_paddler: FakePaddlerServer
) -> None:
    fake_paddler.script(plain_content("Lyon."))

    openai_client.responses.create(
        model="default",
        input=[
            {"role": "user", "content": "Capital of France?"},
            {
                "type": "message",
                "role": "assistant",
                "id": "msg_from_an_earlier_turn",
                "status": "completed",
                "content": [{"type": "output_text", "text": "Paris.", "annotations": []}],
            },
            {"role": "user", "content": "And its second city?"},
        ],
    )

    assert fake_paddler.last_body is not None
    assert fake_paddler.last_body["conversation_history"] == [
        {"role": "user", "content": "Capital of France?"},
        {"role": "assistant", "content": "Paris."},
        {"role": "user", "content": "And its second city?"},
    ]


class Weather(pydantic.BaseModel):
    city: str
    celsius: int


def test_structured_output_sends_a_grammar_with_thinking_off_and_parses(
    openai_client: openai.OpenAI, fake_paddler: FakePaddlerServer
) -> None:
    fake_paddler.script(plain_content('{"city":"Paris",', '"celsius":18}'))

    response = openai_client.responses.parse(model="default", input="Weather?", text_format=Weather)

    assert response.output_parsed == Weather(city="Paris", celsius=18)
    body = fake_paddler.last_body
    assert body is not None
    assert body["enable_thinking"] is False
    assert body["grammar"]["type"] == "json_schema"
    assert json.loads(body["grammar"]["schema"])["properties"] == {
        "city": {"title": "City", "type": "string"},
        "celsius": {"title": "Celsius", "type": "integer"},
    }
    assert response.text is not None and response.text.format.type == "json_schema"


def test_reasoning_effort_none_switches_thinking_off(
    openai_client: openai.OpenAI, fake_paddler: FakePaddlerServer
) -> None:
    fake_paddler.script(plain_content("ok"))

    openai_client.responses.create(model="default", input="Hi", reasoning={"effort": "none"})

    assert fake_paddler.last_body is not None and fake_paddler.last_body["enable_thinking"] is False


def test_hitting_max_output_tokens_is_incomplete_never_completed(
    openai_client: openai.OpenAI, fake_paddler: FakePaddlerServer
) -> None:
    fake_paddler.script(plain_content("a", "b", "c"))

    response = openai_client.responses.create(model="default", input="Count", max_output_tokens=3)

    assert response.status == "incomplete"
    assert response.incomplete_details is not None
    assert response.incomplete_details.reason == "max_output_tokens"
    assert response.output[0].status == "incomplete"  # type: ignore[union-attr]
    assert response.output_text == "abc"


def test_a_streamed_answer_that_hits_the_limit_ends_with_response_incomplete(
    openai_client: openai.OpenAI, fake_paddler: FakePaddlerServer
) -> None:
    fake_paddler.script(plain_content("a", "b", "c"))

    with openai_client.responses.create(model="default", input="Count", max_output_tokens=3, stream=True) as stream:
        events = list(stream)

    assert events[-1].type == "response.incomplete"
    assert "response.completed" not in [event.type for event in events]
    assert events[-1].response.incomplete_details.reason == "max_output_tokens"  # type: ignore[union-attr]


def test_a_model_alias_is_echoed_as_requested(openai_client: openai.OpenAI, fake_paddler: FakePaddlerServer) -> None:
    fake_paddler.script(plain_content("ok"))

    response = openai_client.responses.create(model="fake-model", input="Hi")

    assert response.model == "fake-model"
