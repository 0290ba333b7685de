"""POST /v1/chat/completions through real HTTP with the official SDK, against the fake Paddler."""

from __future__ import annotations

import json
import re
import time
from typing import Any

import openai
import pydantic

from tests.fake_paddler import FakePaddlerServer
from tests.fake_paddler_scripts import plain_content, reasoning_then_content
from tests.live_server import LiveServer

USER = [{"role": "user", "content": "Say hello"}]


def test_a_text_answer_is_one_chat_completion(openai_client: openai.OpenAI, fake_paddler: FakePaddlerServer) -> None:
    fake_paddler.script(plain_content("Hello", " there", prompt_tokens=9))
    completion = openai_client.chat.completions.create(model="default", messages=USER)
    assert re.fullmatch(r"chatcmpl-[A-Za-z0-9]{29}", completion.id)
    assert completion.object == "chat.completion"
    assert abs(completion.created - time.time()) < 60
    assert completion.model == "default"
    assert completion.service_tier == "default"
    choice = completion.choices[0]
    assert (choice.index, choice.finish_reason, choice.logprobs) == (0, "stop", None)
    assert (choice.message.role, choice.message.content, choice.message.refusal) == ("assistant", "Hello there", None)
    assert choice.message.tool_calls is None


def test_the_non_streaming_body_has_the_exact_usage_shape(
    openai_client: openai.OpenAI, fake_paddler: FakePaddlerServer
) -> None:
    fake_paddler.script(reasoning_then_content(["Hmm"], ["Hi", "!"], prompt_tokens=9))
    raw = openai_client.chat.completions.with_raw_response.create(model="default", messages=USER)
    body = json.loads(raw.http_response.text)
    assert body["usage"] == {
        "prompt_tokens": 9,
        "completion_tokens": 3,
        "total_tokens": 12,
        "prompt_tokens_details": {"cached_tokens": 0, "audio_tokens": 0},
        "completion_tokens_details": {"reasoning_tokens": 1},
    }
    message = body["choices"][0]["message"]
    assert set(message) == {"role", "content", "refusal", "annotations", "reasoning_content"}
    assert message["annotations"] == []


def test_the_request_reaches_paddler_as_its_exact_body(
    openai_client: openai.OpenAI, fake_paddler: FakePaddlerServer
) -> None:
    openai_client.chat.completions.create(
        model="fake-model",
        messages=[
            {"role": "system", "content": "Be brief."},
            {"role": "developer", "content": "Use English."},
            {"role": "user", "content": "Hi"},
        ],
        max_tokens=77,
        temperature=0.1,
        seed=3,
        stop=["\n"],
        user="u-1",
        metadata={"team": "a"},
        store=False,
        extra_body={"top_k": 20, "min_p": 0.05},
    )
    assert fake_paddler.last_body == {
        "add_generation_prompt": True,
        "conversation_history": [
            {"role": "system", "content": "Be brief.\n\nUse English."},
            {"role": "user", "content": "Hi"},
        ],
        "enable_thinking": True,
        "grammar": None,
        "max_tokens": 77,
        "parse_tool_calls": False,
        "tools": [],
    }


async def test_the_async_client_gets_the_same_answer(
    async_openai_client: openai.AsyncOpenAI, fake_paddler: FakePaddlerServer
) -> None:
    fake_paddler.script(plain_content("Async", " hi"))
    completion = await async_openai_client.chat.completions.create(model="default", messages=USER)
    assert completion.choices[0].message.content == "Async hi"
    assert completion.usage is not None and completion.usage.completion_tokens == 2


def test_streaming_without_usage_relays_every_token(
    openai_client: openai.OpenAI, fake_paddler: FakePaddlerServer
) -> None:
    fake_paddler.script(plain_content("Hel", "lo", "!"))
    chunks = list(openai_client.chat.completions.create(model="default", messages=USER, stream=True))
    assert len({chunk.id for chunk in chunks}) == 1
    assert len({chunk.created for chunk in chunks}) == 1
    assert [chunk.choices[0].delta.content for chunk in chunks] == ["", "Hel", "lo", "!", None]
    assert chunks[0].choices[0].delta.role == "assistant"
    assert [chunk.choices[0].finish_reason for chunk in chunks][-1] == "stop"
    assert all(chunk.usage is None and chunk.choices for chunk in chunks)


def test_streaming_with_usage_ends_with_the_usage_chunk(
    openai_client: openai.OpenAI, fake_paddler: FakePaddlerServer
) -> None:
    fake_paddler.script(plain_content("A", "B", prompt_tokens=5))
    chunks = list(
        openai_client.chat.completions.create(
            model="default", messages=USER, stream=True, stream_options={"include_usage": True}
        )
    )
    assert chunks[-1].choices == []
    assert chunks[-1].usage is not None
    assert (chunks[-1].usage.prompt_tokens, chunks[-1].usage.completion_tokens, chunks[-1].usage.total_tokens) == (
        5,
        2,
        7,
    )
    assert chunks[-2].choices[0].finish_reason == "stop"
    assert all(chunk.usage is None for chunk in chunks[:-1])


async def test_async_streaming_relays_every_token(
    async_openai_client: openai.AsyncOpenAI, fake_paddler: FakePaddlerServer
) -> None:
    fake_paddler.script(plain_content("x", "y"))
    stream = await async_openai_client.chat.completions.create(model="default", messages=USER, stream=True)
    contents = [chunk.choices[0].delta.content async for chunk in stream]
    assert contents == ["", "x", "y", None]


def test_the_stream_helper_accumulates_a_clean_message(
    openai_client: openai.OpenAI, fake_paddler: FakePaddlerServer
) -> None:
    fake_paddler.script(plain_content("Hello", " world"))
    with openai_client.chat.completions.stream(model="default", messages=USER) as stream:
        deltas = [event.delta for event in stream if event.type == "content.delta"]
        final = stream.get_final_completion()
    assert deltas == ["", "Hello", " world"]
    message = final.choices[0].message
    assert (message.role, message.content) == ("assistant", "Hello world")


async def test_the_async_stream_helper_accumulates_a_clean_message(
    async_openai_client: openai.AsyncOpenAI, fake_paddler: FakePaddlerServer
) -> None:
    fake_paddler.script(plain_content("Hi", "!"))
    async with async_openai_client.chat.completions.stream(model="default", messages=USER) as stream:
        final = await stream.get_final_completion()
    assert (final.choices[0].message.role, final.choices[0].message.content) == ("assistant", "Hi!")


def test_reasoning_arrives_in_reasoning_content_and_never_in_content(
    openai_client: openai.OpenAI, fake_paddler: FakePaddlerServer
) -> None:
    fake_paddler.script(reasoning_then_content(["Let me", " think"], ["42"]))
    message = openai_client.chat.completions.create(model="default", messages=USER).choices[0].message
    assert message.content == "42"
    assert message.model_extra is not None and message.model_extra["reasoning_content"] == "Let me think"


def test_streamed_reasoning_comes_in_its_own_deltas(
    openai_client: openai.OpenAI, fake_paddler: FakePaddlerServer
) -> None:
    fake_paddler.script(reasoning_then_content(["Let me", " think"], ["42"]))
    chunks = list(openai_client.chat.completions.create(model="default", messages=USER, stream=True))
    reasoning = [(c.choices[0].delta.model_extra or {}).get("reasoning_content") for c in chunks]
    contents = [c.choices[0].delta.content for c in chunks]
    assert reasoning == [None, "Let me", " think", None, None]
    assert contents == ["", None, None, "42", None]


def test_the_reasoning_field_can_be_renamed(
    live_server_factory: Any, api_key: tuple[object, str], fake_paddler: FakePaddlerServer
) -> None:
    renamed: LiveServer = live_server_factory({"OARLOCK_CHAT_REASONING_FIELD": "reasoning"})
    client = openai.OpenAI(base_url=renamed.base_url, api_key=api_key[1], max_retries=0)
    fake_paddler.script(reasoning_then_content(["Think"], ["42"]))
    extra = client.chat.completions.create(model="default", messages=USER).choices[0].message.model_extra or {}
    assert extra == {"reasoning": "Think"}


def test_length_is_reported_when_the_token_budget_is_used_up(
    openai_client: openai.OpenAI, fake_paddler: FakePaddlerServer
) -> None:
    fake_paddler.script(plain_content("a", "b", "c"))
    completion = openai_client.chat.completions.create(model="default", messages=USER, max_completion_tokens=3)
    assert completion.choices[0].finish_reason == "length"
    assert fake_paddler.last_body is not None and fake_paddler.last_body["max_tokens"] == 3


def test_length_is_reported_on_a_stream(openai_client: openai.OpenAI, fake_paddler: FakePaddlerServer) -> None:
    fake_paddler.script(plain_content("a", "b"))
    chunks = list(openai_client.chat.completions.create(model="default", messages=USER, max_tokens=2, stream=True))
    assert chunks[-1].choices[0].finish_reason == "length"


def test_json_schema_output_sends_a_grammar_with_thinking_off(
    openai_client: openai.OpenAI, fake_paddler: FakePaddlerServer
) -> None:
    schema = {
        "type": "object",
        "properties": {"answer": {"type": "string"}},
        "required": ["answer"],
        "additionalProperties": False,
    }
    fake_paddler.script(plain_content('{"answer"', ':"42"}'))
    completion = openai_client.chat.completions.create(
        model="default",
        messages=USER,
        response_format={"type": "json_schema", "json_schema": {"name": "answer", "strict": True, "schema": schema}},
    )
    assert json.loads(completion.choices[0].message.content or "") == {"answer": "42"}
    body = fake_paddler.last_body
    assert body is not None
    assert body["grammar"] == {"type": "json_schema", "schema": json.dumps(schema, separators=(",", ":"))}
    assert body["enable_thinking"] is False


class Answer(pydantic.BaseModel):
    answer: str


def test_the_parse_helper_gets_a_parsed_object(openai_client: openai.OpenAI, fake_paddler: FakePaddlerServer) -> None:
    fake_paddler.script(plain_content('{"answer":', '"42"}'))
    completion = openai_client.chat.completions.parse(model="default", messages=USER, response_format=Answer)
    assert completion.choices[0].message.parsed == Answer(answer="42")
    body = fake_paddler.last_body
    assert body is not None and body["enable_thinking"] is False
    assert json.loads(body["grammar"]["schema"])["properties"] == {"answer": {"title": "Answer", "type": "string"}}


def test_json_object_output_sends_a_generic_object_grammar(
    openai_client: openai.OpenAI, fake_paddler: FakePaddlerServer
) -> None:
    fake_paddler.script(plain_content("{}"))
    openai_client.chat.completions.create(model="default", messages=USER, response_format={"type": "json_object"})
    body = fake_paddler.last_body
    assert body is not None
    assert (body["grammar"], body["enable_thinking"]) == ({"type": "json_schema", "schema": '{"type":"object"}'}, False)


def test_reasoning_effort_none_switches_thinking_off(
    openai_client: openai.OpenAI, fake_paddler: FakePaddlerServer
) -> None:
    openai_client.chat.completions.create(model="default", messages=USER, reasoning_effort="none")
    assert fake_paddler.last_body is not None and fake_paddler.last_body["enable_thinking"] is False


def test_a_data_uri_image_reaches_paddler_reduced_to_its_url(
    openai_client: openai.OpenAI, fake_paddler: FakePaddlerServer
) -> None:
    url = "data:image/png;base64,iVBORw0KGgo="
    openai_client.chat.completions.create(
        model="default",
        messages=[
            {
                "role": "user",
                "content": [
                    {"type": "text", "text": "What is it?"},
                    {"type": "image_url", "image_url": {"url": url, "detail": "high"}},
                ],
            }
        ],
    )
    assert fake_paddler.last_body is not None
    assert fake_paddler.last_body["conversation_history"] == [
        {
            "role": "user",
            "content": [
                {"type": "text", "text": "What is it?"},
                {"type": "image_url", "image_url": {"url": url}},
            ],
        }
    ]


def test_stream_options_on_a_non_streaming_request_are_accepted(
    openai_client: openai.OpenAI, fake_paddler: FakePaddlerServer
) -> None:
    completion = openai_client.chat.completions.create(
        model="default", messages=USER, stream_options={"include_usage": True, "include_obfuscation": False}
    )
    assert completion.object == "chat.completion"
