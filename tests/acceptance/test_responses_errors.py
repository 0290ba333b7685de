"""Every error class of /v1/responses as clients see it: real statuses before the first byte;
after it, an ``error`` event then ``response.failed``, then the end of the stream."""

from __future__ import annotations

import json
import time
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
    slow_stream,
    waiting_for_slot_timed_out,
)
from tests.live_server import LiveServer


def error_of(exc: openai.APIStatusError) -> dict[str, Any]:
    body = exc.response.json()
    assert set(body["error"]) == {"message", "type", "param", "code"}
    error: dict[str, Any] = body["error"]
    return error


def sse_events(text: str) -> list[dict[str, Any]]:
    return [json.loads(line.removeprefix("data: ")) for line in text.split("\n") if line.startswith("data: ")]


def raw_stream(server: LiveServer, secret: str, **body: Any) -> list[dict[str, Any]]:
    response = httpx.post(
        server.base_url + "/responses",
        json={"model": "default", "input": "Hi", "stream": True, **body},
        headers={"Authorization": f"Bearer {secret}"},
        timeout=10,
    )
    assert response.status_code == 200
    return sse_events(response.text)


@pytest.mark.parametrize("stream", [False, True])
def test_paddler_overflow_is_a_503_with_retry_after(
    openai_client: openai.OpenAI, fake_paddler: FakePaddlerServer, stream: bool
) -> None:
    fake_paddler.script(buffered_requests_overflow())

    with pytest.raises(openai.InternalServerError) as caught:
        openai_client.responses.create(model="default", input="Hi", stream=stream)

    assert caught.value.status_code == 503
    assert int(caught.value.response.headers["retry-after"]) >= 1
    assert error_of(caught.value)["message"] == OVERFLOW_DESCRIPTION


@pytest.mark.parametrize("stream", [False, True])
def test_waiting_for_a_slot_too_long_is_a_504(
    openai_client: openai.OpenAI, fake_paddler: FakePaddlerServer, stream: bool
) -> None:
    fake_paddler.script(waiting_for_slot_timed_out())

    with pytest.raises(openai.InternalServerError) as caught:
        openai_client.responses.create(model="default", input="Hi", stream=stream)

    assert caught.value.status_code == 504
    assert (error_of(caught.value)["type"], error_of(caught.value)["message"]) == (
        "timeout",
        SLOT_WAIT_TIMEOUT_DESCRIPTION,
    )


def test_an_agent_lost_before_any_token_is_a_502(openai_client: openai.OpenAI, fake_paddler: FakePaddlerServer) -> None:
    fake_paddler.script(agent_connection_closed())

    with pytest.raises(openai.InternalServerError) as caught:
        openai_client.responses.create(model="default", input="Hi", stream=True)

    assert caught.value.status_code == 502
    assert error_of(caught.value)["message"] == AGENT_LOST_DESCRIPTION


def test_an_unreachable_paddler_is_a_502(openai_client: openai.OpenAI, fake_paddler: FakePaddlerServer) -> None:
    Upstream.objects.create(model_name="offline", aliases=[], inference_url="http://127.0.0.1:9")

    with pytest.raises(openai.InternalServerError) as caught:
        openai_client.responses.create(model="offline", input="Hi", stream=True)

    assert caught.value.status_code == 502
    assert error_of(caught.value)["type"] == "server_error"


@pytest.mark.parametrize("kind", ["ChatTemplateError", "GrammarSyntaxError", "ToolSchemaInvalid"])
def test_template_grammar_and_tool_schema_errors_are_400s_with_paddlers_message(
    openai_client: openai.OpenAI, fake_paddler: FakePaddlerServer, kind: Any
) -> None:
    fake_paddler.script(generation_error(kind, "paddler says no"))

    with pytest.raises(openai.BadRequestError) as caught:
        openai_client.responses.create(model="default", input="Hi", stream=True)

    error = error_of(caught.value)
    assert (error["type"], error["message"]) == ("invalid_request_error", "paddler says no")


def test_a_plain_text_rejection_by_paddler_is_a_400_envelope(
    openai_client: openai.OpenAI, fake_paddler: FakePaddlerServer
) -> None:
    fake_paddler.script(HttpFailure(400, "Invalid request parameters: bad tool"))

    with pytest.raises(openai.BadRequestError) as caught:
        openai_client.responses.create(model="default", input="Hi")

    assert "bad tool" in error_of(caught.value)["message"]


def test_an_unknown_model_is_a_404_model_not_found(
    openai_client: openai.OpenAI, fake_paddler: FakePaddlerServer
) -> None:
    with pytest.raises(openai.NotFoundError) as caught:
        openai_client.responses.create(model="gpt-9", input="Hi")

    assert (error_of(caught.value)["code"], error_of(caught.value)["param"]) == ("model_not_found", "model")
    assert fake_paddler.requests == []


def test_an_unknown_parameter_is_refused_like_openai_does(
    openai_client: openai.OpenAI, fake_paddler: FakePaddlerServer
) -> None:
    with pytest.raises(openai.BadRequestError) as caught:
        openai_client.responses.create(model="default", input="Hi", extra_body={"thinking": True})

    assert error_of(caught.value) == {
        "message": "Unknown parameter: 'thinking'.",
        "type": "invalid_request_error",
        "param": "thinking",
        "code": "unknown_parameter",
    }
    assert fake_paddler.requests == []


@pytest.mark.parametrize(
    ("extra", "param", "code"),
    [
        ({"background": True}, "background", "unsupported_value"),
        ({"conversation": "conv_1"}, "conversation", "unsupported_parameter"),
        ({"prompt": {"id": "pmpt_1"}}, "prompt", "unsupported_parameter"),
    ],
)
def test_background_conversation_and_prompt_are_refused_saying_why(
    openai_client: openai.OpenAI, fake_paddler: FakePaddlerServer, extra: dict[str, Any], param: str, code: str
) -> None:
    with pytest.raises(openai.BadRequestError) as caught:
        openai_client.responses.create(model="default", input="Hi", **extra)

    error = error_of(caught.value)
    assert (error["param"], error["code"]) == (param, code)
    assert "not supported by this server" in error["message"]
    assert fake_paddler.requests == []


def test_an_invalid_input_item_names_its_path(openai_client: openai.OpenAI, fake_paddler: FakePaddlerServer) -> None:
    with pytest.raises(openai.BadRequestError) as caught:
        openai_client.responses.create(
            model="default",
            input=[
                {"role": "user", "content": "Hi"},
                {"role": "user", "content": [{"type": "input_image", "image_url": "https://x.test/a.png"}]},
            ],
        )

    assert error_of(caught.value)["param"] == "input[1].content[0].image_url"


def test_an_unknown_previous_response_is_previous_response_not_found(
    openai_client: openai.OpenAI, fake_paddler: FakePaddlerServer
) -> None:
    with pytest.raises(openai.BadRequestError) as caught:
        openai_client.responses.create(model="default", input="Hi", previous_response_id="resp_unknown")

    assert error_of(caught.value) == {
        "message": "Previous response with id 'resp_unknown' not found.",
        "type": "invalid_request_error",
        "param": "previous_response_id",
        "code": "previous_response_not_found",
    }
    assert fake_paddler.requests == []


def test_an_item_timeout_mid_stream_raises_in_the_sdk_after_the_text_so_far(
    openai_client: openai.OpenAI, fake_paddler: FakePaddlerServer
) -> None:
    fake_paddler.script(inference_item_timeout(after_tokens=("Hel", "lo")))
    deltas: list[str] = []

    with pytest.raises(openai.APIError) as caught:
        for event in openai_client.responses.create(model="default", input="Hi", stream=True):
            if event.type == "response.output_text.delta":
                deltas.append(event.delta)

    assert deltas == ["Hel", "lo"]
    assert caught.value.message == item_timeout_description()


def test_an_item_timeout_mid_generation_without_streaming_is_a_504(
    openai_client: openai.OpenAI, fake_paddler: FakePaddlerServer
) -> None:
    fake_paddler.script(inference_item_timeout(after_tokens=("Hel", "lo")))

    with pytest.raises(openai.InternalServerError) as caught:
        openai_client.responses.create(model="default", input="Hi")

    assert caught.value.status_code == 504


@pytest.mark.parametrize(
    ("reply", "error_type", "code"),
    [
        (inference_item_timeout(after_tokens=("Hel",)), "timeout", "timeout"),
        (agent_connection_closed(after_tokens=("Hel",)), "server_error", "server_error"),
        (Reply([ContentToken("Hel"), DropConnection()]), "server_error", "server_error"),
        (
            Reply([ContentToken("Hel"), ToolCallParseFailed("cannot parse the tool call")]),
            "server_error",
            "tool_call_failed",
        ),
    ],
)
def test_a_failure_after_the_stream_started_is_an_error_event_then_response_failed_then_the_end(
    live_server: LiveServer,
    api_key: tuple[object, str],
    fake_paddler: FakePaddlerServer,
    reply: Reply,
    error_type: str,
    code: str,
) -> None:
    fake_paddler.script(reply)

    events = raw_stream(live_server, api_key[1])

    assert [event["type"] for event in events] == [
        "response.created",
        "response.in_progress",
        "response.output_item.added",
        "response.content_part.added",
        "response.output_text.delta",
        "response.output_text.done",
        "response.content_part.done",
        "response.output_item.done",
        "error",
        "response.failed",
    ]
    error, failed = events[-2], events[-1]
    assert error["error"]["type"] == error_type
    assert (error["message"], error["code"], error["param"]) == (
        error["error"]["message"],
        error["error"]["code"],
        error["error"]["param"],
    )
    response = failed["response"]
    assert response["status"] == "failed"
    assert response["error"] == {"code": code, "message": error["message"]}
    assert response["output"] == [events[7]["item"]]
    assert events[7]["item"]["status"] == "incomplete"


def wait_for_log(server: LiveServer, text: str, timeout: float = 5.0) -> str:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        for line in server.log_path.read_text(errors="replace").splitlines():
            if text in line:
                return line
        time.sleep(0.05)
    raise AssertionError(f"no log line with {text!r}")


def test_a_client_that_hangs_up_mid_stream_cancels_the_generation_and_nothing_is_stored(
    live_server: LiveServer, api_key: tuple[object, str], fake_paddler: FakePaddlerServer
) -> None:
    fake_paddler.script(slow_stream(200, 0.05))
    auth = {"Authorization": f"Bearer {api_key[1]}"}

    with httpx.stream(
        "POST",
        live_server.base_url + "/responses",
        json={"model": "default", "input": "Hi", "stream": True},
        headers=auth,
        timeout=10,
    ) as response:
        request_id = response.headers["x-request-id"]
        lines = response.iter_lines()
        next(lines)  # event: response.created
        response_id = json.loads(next(lines).removeprefix("data: "))["response"]["id"]
        for line in lines:
            if line == "event: response.output_text.delta":
                break

    assert fake_paddler.wait_for_disconnect(timeout=5)
    assert (fake_paddler.lines_sent_before_disconnect or 0) < 200
    line = wait_for_log(live_server, f"[{request_id}] request done endpoint=responses")
    assert "outcome=client_disconnected" in line and "generated_by=fake-agent" in line
    assert httpx.get(live_server.base_url + f"/responses/{response_id}", headers=auth).status_code == 404


def test_a_non_streaming_client_that_gives_up_cancels_the_generation(
    live_server: LiveServer, api_key: tuple[object, str], fake_paddler: FakePaddlerServer
) -> None:
    fake_paddler.script(slow_stream(100, 0.05))

    with pytest.raises(httpx.ReadTimeout):
        httpx.post(
            live_server.base_url + "/responses",
            json={"model": "default", "input": "Hi"},
            headers={"Authorization": f"Bearer {api_key[1]}"},
            timeout=httpx.Timeout(5, read=0.5),
        )

    assert fake_paddler.wait_for_disconnect()
