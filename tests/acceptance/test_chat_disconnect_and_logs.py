"""A client that goes away cancels the upstream at once; every request ends in one log line that
names Paddler's agent and never the conversation."""

from __future__ import annotations

import asyncio
import time

import httpx
import openai
import pytest

from tests.fake_paddler import FakePaddlerServer
from tests.fake_paddler_scripts import plain_content, slow_stream
from tests.live_server import LiveServer

USER = [{"role": "user", "content": "Hi"}]


def wait_for_log(server: LiveServer, text: str, timeout: float = 5.0) -> str:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        for line in server.log_path.read_text(errors="replace").splitlines():
            if text in line:
                return line
        time.sleep(0.05)
    raise AssertionError(f"no log line with {text!r}:\n{server.log_tail()}")


def test_closing_a_stream_mid_way_cancels_the_upstream(
    openai_client: openai.OpenAI, fake_paddler: FakePaddlerServer
) -> None:
    fake_paddler.script(slow_stream(100, 0.05))
    stream = openai_client.chat.completions.create(model="default", messages=USER, stream=True)
    iterator = iter(stream)
    next(iterator)
    next(iterator)
    stream.close()
    assert fake_paddler.wait_for_disconnect()
    sent = fake_paddler.lines_sent_before_disconnect
    assert sent is not None and sent < 50


async def test_cancelling_an_async_stream_cancels_the_upstream(
    async_openai_client: openai.AsyncOpenAI, fake_paddler: FakePaddlerServer
) -> None:
    fake_paddler.script(slow_stream(100, 0.05))
    stream = await async_openai_client.chat.completions.create(model="default", messages=USER, stream=True)
    async for chunk in stream:
        if chunk.choices[0].delta.content:
            break
    await stream.close()
    assert await fake_paddler.wait_for_disconnect_async()


def test_a_non_streaming_client_that_gives_up_cancels_the_upstream(
    live_server: LiveServer, api_key: tuple[object, str], fake_paddler: FakePaddlerServer
) -> None:
    fake_paddler.script(slow_stream(100, 0.05))
    with pytest.raises(httpx.ReadTimeout):
        httpx.post(
            live_server.base_url + "/chat/completions",
            json={"model": "default", "messages": USER},
            headers={"Authorization": f"Bearer {api_key[1]}"},
            timeout=httpx.Timeout(5, read=0.5),
        )
    assert fake_paddler.wait_for_disconnect()


def test_a_disconnect_is_logged_as_such_with_the_agent_name(
    live_server: LiveServer, openai_client: openai.OpenAI, fake_paddler: FakePaddlerServer
) -> None:
    fake_paddler.script(slow_stream(100, 0.05))
    with openai_client.chat.completions.with_streaming_response.create(
        model="default", messages=USER, stream=True
    ) as response:
        request_id = response.headers["x-request-id"]
        next(response.iter_lines())
    assert fake_paddler.wait_for_disconnect()
    line = wait_for_log(live_server, f"[{request_id}] request done endpoint=chat.completions")
    assert "outcome=client_disconnected" in line
    assert "generated_by=fake-agent" in line


@pytest.mark.parametrize("stream", [False, True])
def test_the_summary_line_names_the_agent_and_never_the_conversation(
    live_server: LiveServer, openai_client: openai.OpenAI, fake_paddler: FakePaddlerServer, stream: bool
) -> None:
    fake_paddler.script(plain_content("secret-completion-text"))
    raw = openai_client.chat.completions.with_raw_response.create(
        model="default", messages=[{"role": "user", "content": "secret-prompt-text"}], stream=stream
    )
    raw.parse()
    request_id = raw.headers["x-request-id"]
    line = wait_for_log(live_server, f"[{request_id}] request done endpoint=chat.completions")
    assert "outcome=completed" in line and "status=200" in line
    assert "generated_by=fake-agent" in line
    log = live_server.log_path.read_text(errors="replace")
    assert "secret-prompt-text" not in log and "secret-completion-text" not in log


async def test_concurrent_streams_do_not_mix(
    async_openai_client: openai.AsyncOpenAI, fake_paddler: FakePaddlerServer
) -> None:
    fake_paddler.script(*(plain_content(f"answer-{n}") for n in range(3)))

    async def ask() -> str:
        stream = await async_openai_client.chat.completions.create(model="default", messages=USER, stream=True)
        return "".join([chunk.choices[0].delta.content or "" async for chunk in stream])

    answers = await asyncio.gather(ask(), ask(), ask())
    assert sorted(answers) == ["answer-0", "answer-1", "answer-2"]
