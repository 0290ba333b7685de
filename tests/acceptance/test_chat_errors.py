"""Every error class of /v1/chat/completions, as the SDK sees it: real statuses before the first
byte, an in-band error then ``[DONE]`` after it."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import httpx
import openai
import pytest

from inference.models import Upstream
from paddler_protocol.paddler_message import ContentToken, ToolCallParseFailed
from tests.fake_paddler import FakePaddlerServer, HttpFailure
from tests.fake_paddler_reply import DropConnection, Reply
from tests.fake_paddler_scripts import (
    AGENT_LOST_DESCRIPTION,
    OVERFLOW_DESCRIPTION,
    SLOT_WAIT_TIMEOUT_DESCRIPTION,
    agent_connection_closed,
    buffered_requests_overflow,
    generation_error,
    inference_item_timeout,
    item_timeout_description,
    waiting_for_slot_timed_out,
)
from tests.live_server import LiveServer

USER = [{"role": "user", "content": "Hi"}]


def error_of(exc: openai.APIStatusError) -> dict[str, Any]:
    body = exc.response.json()
    assert set(body["error"]) == {"message", "type", "param", "code"}
    error: dict[str, Any] = body["error"]
    return error


@pytest.mark.parametrize("stream", [False, True])
def test_paddler_overflow_is_a_503_with_retry_after(
    openai_client: openai.OpenAI, fake_paddler: FakePaddlerServer, stream: bool
) -> None:
    fake_paddler.script(buffered_requests_overflow())
    with pytest.raises(openai.InternalServerError) as caught:
        openai_client.chat.completions.create(model="default", messages=USER, stream=stream)
    assert caught.value.status_code == 503
    assert int(caught.value.response.headers["retry-after"]) >= 1
    assert error_of(caught.value)["message"] == OVERFLOW_DESCRIPTION


@pytest.mark.parametrize("stream", [False, True])
def test_waiting_for_a_slot_too_long_is_a_504(
    openai_client: openai.OpenAI, fake_paddler: FakePaddlerServer, stream: bool
) -> None:
    fake_paddler.script(waiting_for_slot_timed_out())
    with pytest.raises(openai.InternalServerError) as caught:
        openai_client.chat.completions.create(model="default", messages=USER, stream=stream)
    assert caught.value.status_code == 504
    assert error_of(caught.value)["type"] == "timeout"
    assert error_of(caught.value)["message"] == SLOT_WAIT_TIMEOUT_DESCRIPTION


def test_an_agent_lost_before_any_token_is_a_502(openai_client: openai.OpenAI, fake_paddler: FakePaddlerServer) -> None:
    fake_paddler.script(agent_connection_closed())
    with pytest.raises(openai.InternalServerError) as caught:
        openai_client.chat.completions.create(model="default", messages=USER, stream=True)
    assert caught.value.status_code == 502
    assert error_of(caught.value)["message"] == AGENT_LOST_DESCRIPTION


def test_an_unreachable_paddler_is_a_502(openai_client: openai.OpenAI, fake_paddler: FakePaddlerServer) -> None:
    Upstream.objects.create(model_name="offline", aliases=[], inference_url="http://127.0.0.1:9")
    with pytest.raises(openai.InternalServerError) as caught:
        openai_client.chat.completions.create(model="offline", messages=USER)
    assert caught.value.status_code == 502
    assert error_of(caught.value)["type"] == "server_error"


@pytest.mark.parametrize(
    "kind",
    [
        "ChatTemplateError",
        "GrammarSyntaxError",
        "GrammarIncompatibleWithThinking",
        "ImageDecodingFailed",
        "ToolSchemaInvalid",
    ],
)
def test_template_grammar_image_and_tool_schema_errors_are_400s_with_paddlers_message(
    openai_client: openai.OpenAI, fake_paddler: FakePaddlerServer, kind: Any
) -> None:
    fake_paddler.script(generation_error(kind, "paddler says no"))
    with pytest.raises(openai.BadRequestError) as caught:
        openai_client.chat.completions.create(model="default", messages=USER, stream=True)
    error = error_of(caught.value)
    assert (error["type"], error["message"]) == ("invalid_request_error", "paddler says no")


def test_an_other_generation_error_is_a_500(openai_client: openai.OpenAI, fake_paddler: FakePaddlerServer) -> None:
    fake_paddler.script(generation_error("SamplerError"))
    with pytest.raises(openai.InternalServerError) as caught:
        openai_client.chat.completions.create(model="default", messages=USER)
    assert caught.value.status_code == 500


def test_a_plain_text_rejection_by_paddler_is_a_400_envelope(
    openai_client: openai.OpenAI, fake_paddler: FakePaddlerServer
) -> None:
    fake_paddler.script(HttpFailure(400, "Invalid request parameters: bad tool"))
    with pytest.raises(openai.BadRequestError) as caught:
        openai_client.chat.completions.create(model="default", messages=USER)
    assert "bad tool" in error_of(caught.value)["message"]


def test_an_unknown_model_is_a_404_model_not_found(
    openai_client: openai.OpenAI, fake_paddler: FakePaddlerServer
) -> None:
    with pytest.raises(openai.NotFoundError) as caught:
        openai_client.chat.completions.create(model="gpt-9", messages=USER)
    error = error_of(caught.value)
    assert (error["code"], error["param"]) == ("model_not_found", "model")
    assert fake_paddler.requests == []


def test_an_unknown_parameter_is_refused_like_openai_does(
    openai_client: openai.OpenAI, fake_paddler: FakePaddlerServer
) -> None:
    with pytest.raises(openai.BadRequestError) as caught:
        openai_client.chat.completions.create(model="default", messages=USER, extra_body={"thinking": True})
    assert error_of(caught.value) == {
        "message": "Unrecognized request argument supplied: thinking",
        "type": "invalid_request_error",
        "param": None,
        "code": None,
    }
    assert fake_paddler.requests == []


def test_n_above_one_is_refused(openai_client: openai.OpenAI, fake_paddler: FakePaddlerServer) -> None:
    with pytest.raises(openai.BadRequestError) as caught:
        openai_client.chat.completions.create(model="default", messages=USER, n=2)
    error = error_of(caught.value)
    assert (error["param"], error["type"]) == ("n", "invalid_request_error")


def test_a_remote_image_url_is_refused_naming_the_part(
    openai_client: openai.OpenAI, fake_paddler: FakePaddlerServer
) -> None:
    content: Any = [
        {"type": "text", "text": "What is this?"},
        {"type": "image_url", "image_url": {"url": "https://example.com/cat.png"}},
    ]
    with pytest.raises(openai.BadRequestError) as caught:
        openai_client.chat.completions.create(model="default", messages=[*USER, {"role": "user", "content": content}])
    error = error_of(caught.value)
    assert error["param"] == "messages[1].content[1].image_url"
    assert "data URI" in error["message"]


def test_a_conversation_over_the_upstream_limit_is_a_413(
    live_server_factory: Callable[..., LiveServer], api_key: tuple[object, str], fake_paddler: FakePaddlerServer
) -> None:
    server = live_server_factory({"OARLOCK_UPSTREAM_MAX_BODY_BYTES": "2000"})
    client = openai.OpenAI(base_url=server.base_url, api_key=api_key[1], max_retries=0)
    with pytest.raises(openai.APIStatusError) as caught:
        client.chat.completions.create(model="default", messages=[{"role": "user", "content": "x" * 3000}])
    assert caught.value.status_code == 413
    assert "limit is 2000 bytes" in error_of(caught.value)["message"]
    assert fake_paddler.requests == []


def test_the_upstream_limit_counts_the_bytes_paddler_receives(
    live_server_factory: Callable[..., LiveServer], api_key: tuple[object, str], fake_paddler: FakePaddlerServer
) -> None:
    # Non-ASCII text is two bytes a character on the wire: the limit is checked against the
    # body exactly as sent, so a limit of that many bytes passes and one byte less is a 413.
    messages = [{"role": "user", "content": "Grüße aus Köln. " * 40}]
    client = openai.OpenAI(base_url=live_server_factory().base_url, api_key=api_key[1], max_retries=0)
    client.chat.completions.create(model="default", messages=messages)  # type: ignore[arg-type]
    (sent,) = fake_paddler.requests
    size = int(sent.headers["content-length"])
    assert size > len(json.dumps(sent.body, ensure_ascii=False, separators=(",", ":")))  # counted in bytes

    exact = openai.OpenAI(
        base_url=live_server_factory({"OARLOCK_UPSTREAM_MAX_BODY_BYTES": str(size)}).base_url,
        api_key=api_key[1],
        max_retries=0,
    )
    exact.chat.completions.create(model="default", messages=messages)  # type: ignore[arg-type]
    short = openai.OpenAI(
        base_url=live_server_factory({"OARLOCK_UPSTREAM_MAX_BODY_BYTES": str(size - 1)}).base_url,
        api_key=api_key[1],
        max_retries=0,
    )
    with pytest.raises(openai.APIStatusError) as caught:
        short.chat.completions.create(model="default", messages=messages)  # type: ignore[arg-type]
    assert caught.value.status_code == 413
    assert f"sent as {size} bytes, and the limit is {size - 1} bytes" in error_of(caught.value)["message"]
    assert len(fake_paddler.requests) == 2


def test_an_item_timeout_after_tokens_ends_the_stream_with_an_error(
    openai_client: openai.OpenAI, fake_paddler: FakePaddlerServer
) -> None:
    fake_paddler.script(inference_item_timeout(after_tokens=("Hel", "lo")))
    received: list[str | None] = []
    with pytest.raises(openai.APIError) as caught:
        for chunk in openai_client.chat.completions.create(model="default", messages=USER, stream=True):
            received.append(chunk.choices[0].delta.content)
    assert received == ["", "Hel", "lo"]
    assert caught.value.message == item_timeout_description()
    assert caught.value.body == {"message": item_timeout_description(), "type": "timeout", "param": None, "code": None}


def test_an_item_timeout_after_tokens_without_streaming_is_a_504(
    openai_client: openai.OpenAI, fake_paddler: FakePaddlerServer
) -> None:
    fake_paddler.script(inference_item_timeout(after_tokens=("Hel", "lo")))
    with pytest.raises(openai.InternalServerError) as caught:
        openai_client.chat.completions.create(model="default", messages=USER)
    assert caught.value.status_code == 504


def raw_stream(server: LiveServer, secret: str) -> list[str]:
    response = httpx.post(
        server.base_url + "/chat/completions",
        json={"model": "default", "messages": USER, "stream": True},
        headers={"Authorization": f"Bearer {secret}"},
        timeout=10,
    )
    assert response.status_code == 200
    return [line for line in response.text.split("\n") if line]


@pytest.mark.parametrize(
    "reply, error_type",
    [
        (inference_item_timeout(after_tokens=("Hel",)), "timeout"),
        (agent_connection_closed(after_tokens=("Hel",)), "server_error"),
        (Reply([ContentToken("Hel"), DropConnection()]), "server_error"),
        (Reply([ContentToken("Hel"), ToolCallParseFailed("cannot parse the tool call")]), "server_error"),
    ],
)
def test_a_failure_after_streaming_started_is_an_error_line_then_done(
    live_server: LiveServer,
    api_key: tuple[object, str],
    fake_paddler: FakePaddlerServer,
    reply: Reply,
    error_type: str,
) -> None:
    fake_paddler.script(reply)
    lines = raw_stream(live_server, api_key[1])
    assert lines[-1] == "data: [DONE]"
    error = json.loads(lines[-2].removeprefix("data: "))
    assert set(error) == {"error"}
    assert error["error"]["type"] == error_type
    assert [json.loads(line[6:])["choices"][0]["delta"] for line in lines[:-2]] == [
        {"role": "assistant", "content": ""},
        {"content": "Hel"},
    ]
