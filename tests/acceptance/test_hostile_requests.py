"""Hostile but small requests cost the worker nothing: a schema reference bomb is a 400 while a
neighbour's stream keeps flowing; a forged log line stays inside its record; a value Paddler
cannot accept is Oarlock's 400 with a param, and a body Paddler cannot read is a 502."""

from __future__ import annotations

import asyncio
import time
from typing import Any

import httpx
import openai
import pytest

from tests.compat_api.test_tool_parameters import reference_bomb
from tests.fake_paddler import FakePaddlerServer
from tests.fake_paddler_reply import HttpFailure
from tests.fake_paddler_scripts import slow_stream
from tests.live_server import LiveServer
from tests.usage.record_polling import wait_for_record

USER = [{"role": "user", "content": "Hi"}]
STREAM_TOKENS = 80


def bomb_tool_chat(levels: int) -> dict[str, Any]:
    return {"type": "function", "function": {"name": "f", "description": "", "parameters": reference_bomb(levels)}}


async def test_a_reference_bomb_is_refused_while_a_stream_on_the_same_worker_keeps_flowing(
    async_openai_client: openai.AsyncOpenAI, fake_paddler: FakePaddlerServer
) -> None:
    # N=20 (a ~3 KB body): the old inliner held the event loop for 42 s expanding 2^20 nodes.
    fake_paddler.script(slow_stream(STREAM_TOKENS, 0.05))
    stream = await async_openai_client.chat.completions.create(model="default", messages=USER, stream=True)
    received: list[str] = []
    bomb_answered_after: list[int] = []
    stream_started = asyncio.Event()

    async def read_stream() -> None:
        async for chunk in stream:
            if chunk.choices and chunk.choices[0].delta.content:
                received.append(chunk.choices[0].delta.content)
                if len(received) == 3:
                    stream_started.set()

    async def send_bombs() -> None:
        await stream_started.wait()
        for create, kwargs, param in (
            (
                async_openai_client.chat.completions.create,
                {"messages": USER, "tools": [bomb_tool_chat(20)]},
                "tools[0].function.parameters",
            ),
            (
                async_openai_client.responses.create,
                {"input": "Hi", "tools": [{"type": "function", "name": "f", "parameters": reference_bomb(20)}]},
                "tools[0].parameters",
            ),
        ):
            with pytest.raises(openai.BadRequestError) as caught:
                await create(model="default", **kwargs)
            error = caught.value.body
            assert isinstance(error, dict) and error["type"] == "invalid_request_error"
            assert error["param"].startswith(param + ".properties.x")
            bomb_answered_after.append(len(received))

    await asyncio.gather(read_stream(), send_bombs())
    assert len(bomb_answered_after) == 2
    # Both refusals came while the stream was mid-way, and it went on to its last token.
    assert bomb_answered_after[-1] < STREAM_TOKENS
    assert received == [f"tok{index}" for index in range(STREAM_TOKENS)]
    assert len(fake_paddler.requests) == 1


def test_a_model_name_with_a_newline_cannot_start_a_log_line(
    live_server: LiveServer, api_key: tuple[object, str], fake_paddler: FakePaddlerServer
) -> None:
    forged = "x\nFAKE LOG LINE level=CRITICAL " + "y" * 10_000
    answer = httpx.post(
        live_server.base_url + "/chat/completions",
        json={"model": forged, "messages": USER},
        headers={"Authorization": f"Bearer {api_key[1]}"},
        timeout=10,
    )
    assert answer.status_code == 400
    assert answer.json()["error"]["param"] == "model"
    # The refused request is recorded, without the string it was refused for.
    record = wait_for_record(api_key_id=api_key[0].pk)  # type: ignore[attr-defined]
    assert (record.model, record.http_status, record.outcome) == ("", 400, "rejected")
    answer = httpx.post(
        live_server.base_url + "/responses",
        json={"model": "default", "input": "Hi", "tools": [{"type": "x\nFAKE LOG LINE"}]},
        headers={"Authorization": f"Bearer {api_key[1]}"},
        timeout=10,
    )
    request_id = answer.headers["x-request-id"]
    log = _wait_for(live_server, f"[{request_id}] request done")
    assert not any(line.startswith("FAKE LOG LINE") for line in log.splitlines())


def test_client_text_echoed_by_paddler_into_a_logged_error_stays_on_one_line(
    live_server: LiveServer, openai_client: openai.OpenAI, fake_paddler: FakePaddlerServer
) -> None:
    # serde quotes the offending value in its message; Oarlock logs upstream refusals.
    fake_paddler.script(HttpFailure(400, "Json deserialize error: unknown variant `x\nFAKE LOG LINE\r\nMORE`"))
    with pytest.raises(openai.InternalServerError):
        openai_client.chat.completions.create(model="default", messages=USER)
    log = _wait_for(live_server, "unknown variant `x\\nFAKE LOG LINE")
    assert not any(line.startswith(("FAKE LOG LINE", "MORE")) for line in log.splitlines())


def _wait_for(server: LiveServer, text: str) -> str:
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline:
        log = server.log_path.read_text(errors="replace")
        if text in log:
            return log
        time.sleep(0.05)
    raise AssertionError(f"no {text!r} in the log:\n{server.log_tail()}")


@pytest.mark.parametrize(
    "extra, param",
    [
        ({"max_tokens": 2**31}, "max_tokens"),
        ({"max_completion_tokens": 10**12}, "max_completion_tokens"),
        ({"user": "u" * 257}, "user"),
        ({"safety_identifier": "s" * 257}, "safety_identifier"),
        ({"prompt_cache_key": "k" * 257}, "prompt_cache_key"),
        ({"model": "m" * 201}, "model"),
        ({"metadata": {"k" * 65: "v"}}, "metadata"),
        (
            {"tools": [{"type": "function", "function": {"name": "f", "parameters": {"type": {"a": 1}}}}]},
            "tools[0].function.parameters.type",
        ),
        (
            {"tools": [{"type": "function", "function": {"name": "f", "parameters": {"properties": ["a"]}}}]},
            "tools[0].function.parameters.properties",
        ),
        (
            {
                "response_format": {
                    "type": "json_schema",
                    "json_schema": {
                        "name": "r",
                        "schema": {"type": "object", "properties": {"a": {"$ref": "#/$defs/none"}}},
                    },
                }
            },
            "response_format.json_schema.schema.properties.a.$ref",
        ),
    ],
)
def test_chat_values_paddler_would_refuse_are_oarlocks_400_with_the_param(
    openai_client: openai.OpenAI, fake_paddler: FakePaddlerServer, extra: dict[str, Any], param: str
) -> None:
    body = {"model": "default", "messages": USER, **extra}
    with pytest.raises(openai.BadRequestError) as caught:
        openai_client.chat.completions.create(**body)
    assert isinstance(caught.value.body, dict) and caught.value.body["param"] == param
    assert fake_paddler.requests == []


@pytest.mark.parametrize(
    "raw, param",
    [
        (b'{"model":"default","messages":[{"role":"user","content":"\\ud800"}]}', "messages[0].content"),
        (b'{"model":"default","messages":[{"role":"user","content":"Hi"}],"temperature":1e400}', "temperature"),
    ],
)
def test_values_json_cannot_carry_upstream_are_a_400_not_a_500(
    live_server: LiveServer, api_key: tuple[object, str], fake_paddler: FakePaddlerServer, raw: bytes, param: str
) -> None:
    answer = httpx.post(
        live_server.base_url + "/chat/completions",
        content=raw,
        headers={"Authorization": f"Bearer {api_key[1]}", "Content-Type": "application/json"},
        timeout=10,
    )
    assert answer.status_code == 400
    assert answer.json()["error"]["param"] == param
    assert fake_paddler.requests == []


def test_a_body_paddler_cannot_deserialize_is_a_502_that_blames_the_gateway(
    openai_client: openai.OpenAI, fake_paddler: FakePaddlerServer
) -> None:
    fake_paddler.script(HttpFailure(400, "Json deserialize error: unknown field `x`"))
    with pytest.raises(openai.InternalServerError) as caught:
        openai_client.chat.completions.create(model="default", messages=USER)
    assert caught.value.status_code == 502
    assert isinstance(caught.value.body, dict) and caught.value.body["code"] == "upstream_refused"
