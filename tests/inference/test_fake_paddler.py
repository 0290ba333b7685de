"""The fake Paddler: framing, scripting, records, and Paddler's strictness about bodies."""

from __future__ import annotations

import json
from typing import Any

import httpx
import pytest

from inference.paddler_client import PaddlerClient
from paddler_protocol.conversation_params import ConversationMessage, ConversationParams
from paddler_protocol.inference_routes import RAW_PROMPT_PATH
from paddler_protocol.paddler_message import ContentToken, Done, ErrorEnvelope, PaddlerMessage, parse_line
from paddler_protocol.request_body import RequestRejected, check_request
from paddler_protocol.token_usage import TokenUsage
from tests import fake_paddler_scripts as scripts
from tests.fake_paddler import FakePaddlerServer, HttpFailure, Reply, Sleep

CONVERSATION = "/api/v1/continue_from_conversation_history"
RAW_PROMPT = "/api/v1/continue_from_raw_prompt"
PARAMS = ConversationParams((ConversationMessage("user", "Say hello"),), max_tokens=16)


def valid_body(**overrides: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "add_generation_prompt": True,
        "conversation_history": [{"role": "user", "content": "Hello"}],
        "enable_thinking": True,
        "grammar": None,
        "max_tokens": 16,
        "parse_tool_calls": False,
        "tools": [],
    }
    body.update(overrides)
    return body


def post(fake_paddler: FakePaddlerServer, body: Any, path: str = CONVERSATION, **headers: str) -> httpx.Response:
    return httpx.post(
        fake_paddler.url + path,
        content=json.dumps(body).encode(),
        headers={"content-type": "application/json", **headers},
    )


def streamed(response: httpx.Response) -> list[PaddlerMessage]:
    assert response.status_code == 200, response.text
    return [parse_line(line).message for line in response.content.splitlines()]


def tool(parameters: Any) -> dict[str, Any]:
    return {
        "type": "function",
        "function": {"name": "get_weather", "description": "", "parameters": parameters},
    }


def test_health_answers_ok_in_plain_text(fake_paddler: FakePaddlerServer) -> None:
    response = httpx.get(fake_paddler.url + "/health")

    assert (response.status_code, response.text) == (200, "OK")


def test_unscripted_requests_get_the_default_hello_reply(fake_paddler: FakePaddlerServer) -> None:
    assert streamed(post(fake_paddler, valid_body())) == [
        ContentToken("Hello"),
        ContentToken(" from"),
        ContentToken(" Paddler"),
        Done(TokenUsage(prompt_tokens=12, content_tokens=3)),
    ]


def test_a_stream_is_exact_ndjson_with_paddlers_headers(fake_paddler: FakePaddlerServer) -> None:
    response = post(fake_paddler, valid_body())

    assert response.headers["content-type"] == "application/json"
    assert response.headers["cache-control"] == "no-cache"
    assert response.headers["transfer-encoding"] == "chunked"
    assert response.content.endswith(b"}\n")
    request_ids = {parse_line(line).request_id for line in response.content.splitlines()}
    assert len(request_ids) == 1 and len(request_ids.pop()) == 21


def test_scripted_replies_are_answered_in_order_then_the_default(
    fake_paddler: FakePaddlerServer,
) -> None:
    fake_paddler.script(scripts.plain_content("one"), scripts.buffered_requests_overflow())

    first, second, third = (streamed(post(fake_paddler, valid_body())) for _ in range(3))

    assert first[0] == ContentToken("one")
    assert second == [ErrorEnvelope(503, "Buffered requests overflow")]
    assert third[0] == ContentToken("Hello")


def test_a_scripted_http_failure_is_plain_text(fake_paddler: FakePaddlerServer) -> None:
    fake_paddler.script(HttpFailure(501, "Token generation is disabled"))

    response = post(fake_paddler, valid_body())

    assert (response.status_code, response.text) == (501, "Token generation is disabled")
    assert response.headers["content-type"].startswith("text/plain")


def test_received_requests_are_recorded_with_path_body_and_headers(
    fake_paddler: FakePaddlerServer,
) -> None:
    post(fake_paddler, valid_body(max_tokens=7))
    post(fake_paddler, {"raw_prompt": "Once", "max_tokens": 3}, path=RAW_PROMPT, **{"x-probe": "yes"})

    assert fake_paddler.wait_for_requests(2, timeout=1.0)
    first, second = fake_paddler.requests
    assert (first.path, first.body) == (CONVERSATION, valid_body(max_tokens=7))
    assert (second.path, second.headers["x-probe"]) == (RAW_PROMPT, "yes")
    assert fake_paddler.last_body == {"raw_prompt": "Once", "max_tokens": 3}


def test_reset_forgets_scripts_and_records(fake_paddler: FakePaddlerServer) -> None:
    fake_paddler.script(scripts.buffered_requests_overflow())
    post(fake_paddler, valid_body())
    fake_paddler.script(scripts.plain_content("scripted"))

    fake_paddler.reset()

    assert (fake_paddler.requests, fake_paddler.last_body, fake_paddler.disconnects) == (
        [],
        None,
        0,
    )
    assert streamed(post(fake_paddler, valid_body()))[0] == ContentToken("Hello")


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        (valid_body(temperature=0.2), "Json deserialize error: unknown field `temperature`"),
        (valid_body(max_tokens=None), "Json deserialize error: invalid type: null, expected i32"),
        (
            valid_body(conversation_history=[{"role": "user", "content": None}]),
            "Json deserialize error: data did not match any variant of untagged enum ConversationMessageContent",
        ),
        (
            valid_body(conversation_history=[{"role": "assistant", "content": "", "tool_calls": []}]),
            "Json deserialize error: unknown field `tool_calls`, expected `role` or `content`",
        ),
        (
            valid_body(conversation_history=[{"role": "user", "content": "x", "name": "bob"}]),
            "Json deserialize error: unknown field `name`",
        ),
        (
            valid_body(
                conversation_history=[
                    {
                        "role": "user",
                        "content": [
                            {
                                "type": "image_url",
                                "image_url": {"url": "data:image/png;base64,AA", "detail": "auto"},
                            }
                        ],
                    }
                ]
            ),
            "Json deserialize error: data did not match any variant of untagged enum ConversationMessageContent",
        ),
        (
            valid_body(tools=[tool({"type": "object", "properties": {}, "$schema": "x"})]),
            "Json deserialize error: data did not match any variant of untagged enum Parameters",
        ),
        (
            valid_body(tools=[{"type": "function", "function": {"name": "f"}}]),
            "Json deserialize error: missing field `description`",
        ),
        (
            valid_body(grammar={"type": "regex", "pattern": "a"}),
            "Json deserialize error: unknown variant `regex`",
        ),
    ],
    ids=[
        "unknown-top-level-key",
        "null-max-tokens",
        "null-content",
        "tool-calls-message-key",
        "name-message-key",
        "image-url-detail",
        "tool-parameters-schema-key",
        "tool-without-description",
        "unknown-grammar-type",
    ],
)
def test_bodies_paddler_would_refuse_are_answered_400_in_plain_text(
    fake_paddler: FakePaddlerServer, body: dict[str, Any], expected: str
) -> None:
    response = post(fake_paddler, body)

    assert response.status_code == 400
    assert response.headers["content-type"].startswith("text/plain")
    assert response.text.startswith(expected)


def test_a_missing_required_key_is_named(fake_paddler: FakePaddlerServer) -> None:
    body = valid_body()
    del body["enable_thinking"]

    assert post(fake_paddler, body).text == "Json deserialize error: missing field `enable_thinking`"


def test_a_required_name_missing_from_properties_is_invalid_request_parameters(
    fake_paddler: FakePaddlerServer,
) -> None:
    parameters = {
        "type": "object",
        "properties": {"city": {"type": "string"}},
        "required": ["city", "unit"],
    }

    response = post(fake_paddler, valid_body(tools=[tool(parameters)], parse_tool_calls=True))

    assert (response.status_code, response.text) == (
        400,
        "Invalid request parameters: Required field 'unit' not found in properties",
    )


def test_a_complete_multimodal_request_with_tools_and_grammar_is_accepted(
    fake_paddler: FakePaddlerServer,
) -> None:
    body = valid_body(
        conversation_history=[
            {"role": "system", "content": "Answer in one sentence."},
            {
                "role": "user",
                "content": [
                    {"type": "text", "text": "Which city is this?"},
                    {
                        "type": "image_url",
                        "image_url": {"url": "data:image/png;base64,iVBORw0KGgo="},
                    },
                ],
            },
        ],
        enable_thinking=False,
        grammar={"type": "json_schema", "schema": '{"type":"object"}'},
        parse_tool_calls=True,
        tools=[
            tool(
                {
                    "type": "object",
                    "properties": {"city": {"type": "string"}},
                    "required": ["city"],
                    "additionalProperties": False,
                }
            ),
            tool(None),
        ],
    )

    assert post(fake_paddler, body).status_code == 200


def test_raw_prompt_bodies_are_strict_too(fake_paddler: FakePaddlerServer) -> None:
    response = post(fake_paddler, {"raw_prompt": "Hi", "max_tokens": 3, "tools": []}, path=RAW_PROMPT)

    assert response.status_code == 400
    assert response.text.startswith("Json deserialize error: unknown field `tools`")


def test_a_body_that_is_not_declared_json_is_refused(fake_paddler: FakePaddlerServer) -> None:
    response = httpx.post(
        fake_paddler.url + CONVERSATION,
        content=json.dumps(valid_body()),
        headers={"content-type": "text/plain"},
    )

    assert (response.status_code, response.text) == (400, "Content type error")


def test_a_body_over_two_mebibytes_is_refused_with_413(fake_paddler: FakePaddlerServer) -> None:
    big = "A" * (2 * 1024 * 1024)

    response = post(fake_paddler, valid_body(conversation_history=[{"role": "user", "content": big}]))

    assert response.status_code == 413


def test_a_refused_request_is_recorded_but_does_not_use_up_a_script(
    fake_paddler: FakePaddlerServer,
) -> None:
    fake_paddler.script(scripts.plain_content("scripted"))

    post(fake_paddler, valid_body(unexpected=True))
    follow_up = streamed(post(fake_paddler, valid_body()))

    assert [request.body for request in fake_paddler.requests] == [
        valid_body(unexpected=True),
        valid_body(),
    ]
    assert follow_up[0] == ContentToken("scripted")


@pytest.mark.parametrize(
    "reply",
    [
        scripts.plain_content("a", "b", "c"),
        scripts.reasoning_then_content(["hm", "m"], ["ok"]),
        scripts.one_tool_call(),
        scripts.several_tool_calls_in_one_batch(),
        scripts.two_tool_call_batches(),
        scripts.inference_item_timeout(["a", "b"]),
        scripts.generation_error("GrammarSyntaxError", after_tokens=["a"]),
        scripts.generation_error("ImageExceedsBatchSize"),
    ],
    ids=[
        "content",
        "reasoning",
        "one-call",
        "one-batch",
        "two-batches",
        "item-timeout",
        "error",
        "image-batch",
    ],
)
def test_scripted_streams_arrive_as_scripted_with_consistent_usage(
    fake_paddler: FakePaddlerServer, reply: Reply
) -> None:
    fake_paddler.script(reply)

    received = streamed(post(fake_paddler, valid_body()))

    assert received == list(reply.steps)
    if isinstance(received[-1], Done):
        assert received[-1].usage == scripts.usage_for(received[:-1])


async def test_a_hang_up_during_a_trailing_sleep_is_recorded(fake_paddler: FakePaddlerServer) -> None:
    # A stalled upstream: one token, then silence with no terminal line.
    fake_paddler.script(Reply([ContentToken("a"), Sleep(5.0)]))
    client = PaddlerClient(fake_paddler.url)
    stream = await client.continue_from_conversation_history(PARAMS).open()
    await anext(stream)

    await stream.aclose()

    assert await fake_paddler.wait_for_disconnect_async(timeout=2.0)
    assert fake_paddler.lines_sent_before_disconnect == 1


def test_the_fake_refuses_infinity_and_nan_as_serde_json_does() -> None:
    for constant in (b"Infinity", b"NaN", b"-Infinity"):
        with pytest.raises(RequestRejected) as caught:
            check_request(RAW_PROMPT_PATH, "application/json", b'{"raw_prompt":"x","max_tokens":' + constant + b"}")
        assert caught.value.status == 400
