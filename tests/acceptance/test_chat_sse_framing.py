"""The SSE framing the SDKs hide, read as raw bytes (wire-format reference 3.1, 3.3, 12)."""

from __future__ import annotations

import json
import re
import time
from typing import Any

import httpx
import pytest

from tests.fake_paddler import FakePaddlerServer
from tests.fake_paddler_scripts import one_tool_call, plain_content
from tests.live_server import LiveServer

USER = [{"role": "user", "content": "Hi"}]


def post_stream(
    server: LiveServer, secret: str, *, headers: dict[str, str] | None = None, **fields: Any
) -> httpx.Response:
    response = httpx.post(
        server.base_url + "/chat/completions",
        json={"model": "default", "messages": USER, "stream": True, **fields},
        headers={"Authorization": f"Bearer {secret}", **(headers or {})},
        timeout=10,
    )
    assert response.status_code == 200, response.text
    return response


def events(response: httpx.Response) -> list[str]:
    """The SSE events of a body, each without its trailing blank line."""
    assert response.text.endswith("\n\n")
    return response.text[:-2].split("\n\n")


def chunks(response: httpx.Response) -> list[dict[str, Any]]:
    return [json.loads(event.removeprefix("data: ")) for event in events(response)[:-1]]


def test_every_event_is_one_data_line_and_the_last_is_done(
    live_server: LiveServer, api_key: tuple[object, str], fake_paddler: FakePaddlerServer
) -> None:
    fake_paddler.script(plain_content("a", "b"))
    response = post_stream(live_server, api_key[1])
    assert response.headers["content-type"].startswith("text/event-stream")
    assert response.headers["cache-control"] == "no-cache"
    assert all(event.startswith("data: ") and "\n" not in event for event in events(response))
    assert "event:" not in response.text
    assert events(response)[-1] == "data: [DONE]"


def test_the_response_carries_a_request_id(
    live_server: LiveServer, api_key: tuple[object, str], fake_paddler: FakePaddlerServer
) -> None:
    response = post_stream(live_server, api_key[1])
    assert re.fullmatch(r"req_[0-9a-f]{32}", response.headers["x-request-id"])


def test_the_role_is_only_in_the_first_chunk_and_the_finish_chunk_has_an_empty_delta(
    live_server: LiveServer, api_key: tuple[object, str], fake_paddler: FakePaddlerServer
) -> None:
    fake_paddler.script(plain_content("a", "b"))
    received = chunks(post_stream(live_server, api_key[1]))
    deltas = [chunk["choices"][0]["delta"] for chunk in received]
    assert deltas == [{"role": "assistant", "content": ""}, {"content": "a"}, {"content": "b"}, {}]
    assert [chunk["choices"][0]["finish_reason"] for chunk in received] == [None, None, None, "stop"]
    assert all(chunk["choices"][0]["logprobs"] is None and chunk["choices"][0]["index"] == 0 for chunk in received)
    assert {(chunk["id"], chunk["created"], chunk["model"], chunk["object"]) for chunk in received} == {
        (received[0]["id"], received[0]["created"], "default", "chat.completion.chunk")
    }


def test_without_include_usage_no_chunk_mentions_usage(
    live_server: LiveServer, api_key: tuple[object, str], fake_paddler: FakePaddlerServer
) -> None:
    fake_paddler.script(plain_content("a"))
    received = chunks(post_stream(live_server, api_key[1], stream_options={}))
    assert all("usage" not in chunk and chunk["choices"] for chunk in received)


def test_with_include_usage_the_usage_chunk_follows_the_finish_and_others_carry_null(
    live_server: LiveServer, api_key: tuple[object, str], fake_paddler: FakePaddlerServer
) -> None:
    fake_paddler.script(plain_content("a", prompt_tokens=4))
    received = chunks(post_stream(live_server, api_key[1], stream_options={"include_usage": True}))
    assert [chunk["usage"] for chunk in received[:-1]] == [None, None, None]
    assert received[-2]["choices"][0]["finish_reason"] == "stop"
    assert received[-1]["choices"] == []
    assert received[-1]["usage"] == {
        "prompt_tokens": 4,
        "completion_tokens": 1,
        "total_tokens": 5,
        "prompt_tokens_details": {"cached_tokens": 0, "audio_tokens": 0},
        "completion_tokens_details": {"reasoning_tokens": 0},
    }


def test_a_tool_call_turn_opens_with_null_content_and_one_complete_delta(
    live_server: LiveServer, api_key: tuple[object, str], fake_paddler: FakePaddlerServer
) -> None:
    fake_paddler.script(one_tool_call("get_weather", {"city": "Paris"}, call_id="call_abc"))
    tool = {"type": "function", "function": {"name": "get_weather", "parameters": {"properties": {"city": {}}}}}
    deltas = [chunk["choices"][0]["delta"] for chunk in chunks(post_stream(live_server, api_key[1], tools=[tool]))]
    assert deltas == [
        {"role": "assistant", "content": None},
        {
            "tool_calls": [
                {
                    "index": 0,
                    "id": "call_abc",
                    "type": "function",
                    "function": {"name": "get_weather", "arguments": '{"city":"Paris"}'},
                }
            ]
        },
        {},
    ]


@pytest.mark.parametrize("accept", ["application/json", "text/event-stream", "*/*"])
def test_the_body_decides_streaming_whatever_accept_says(
    live_server: LiveServer, api_key: tuple[object, str], fake_paddler: FakePaddlerServer, accept: str
) -> None:
    response = post_stream(live_server, api_key[1], headers={"Accept": accept})
    assert response.headers["content-type"].startswith("text/event-stream")
    assert events(response)[-1] == "data: [DONE]"


def test_a_non_streaming_request_asking_for_event_stream_still_gets_json(
    live_server: LiveServer, api_key: tuple[object, str], fake_paddler: FakePaddlerServer
) -> None:
    response = httpx.post(
        live_server.base_url + "/chat/completions",
        json={"model": "default", "messages": USER},
        headers={"Authorization": f"Bearer {api_key[1]}", "Accept": "text/event-stream"},
    )
    assert response.headers["content-type"].startswith("application/json")
    assert response.json()["object"] == "chat.completion"
    assert re.fullmatch(r"req_[0-9a-f]{32}", response.headers["x-request-id"])


def test_the_body_ends_right_after_done(
    live_server: LiveServer, api_key: tuple[object, str], fake_paddler: FakePaddlerServer
) -> None:
    fake_paddler.script(plain_content("a"))
    with (
        httpx.Client(timeout=5) as client,
        client.stream(
            "POST",
            live_server.base_url + "/chat/completions",
            json={"model": "default", "messages": USER, "stream": True},
            headers={"Authorization": f"Bearer {api_key[1]}"},
        ) as response,
    ):
        received = b""
        done_at = None
        for part in response.iter_raw():
            received += part
            if done_at is None and received.endswith(b"data: [DONE]\n\n"):
                done_at = time.monotonic()
        ended_at = time.monotonic()
    assert received.endswith(b"data: [DONE]\n\n")
    assert done_at is not None and ended_at - done_at < 1.0
