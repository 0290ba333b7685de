"""The Paddler client against a real (fake_paddler) Paddler over HTTP."""

from __future__ import annotations

import asyncio
import socket

import pytest

from inference.errors import LocalEngineUnavailable, UpstreamRejected, UpstreamTimeout, UpstreamUnavailable
from inference.paddler_client import PaddlerClient
from paddler_protocol.conversation_params import (
    ConversationMessage,
    ConversationParams,
    FunctionTool,
    RawPromptParams,
)
from paddler_protocol.errors import UpstreamProtocolError
from paddler_protocol.ndjson_lines import MAX_LINE_BYTES
from paddler_protocol.paddler_message import (
    ContentToken,
    Done,
    ErrorEnvelope,
    PaddlerLine,
    PaddlerMessage,
)
from paddler_protocol.token_usage import TokenUsage
from tests import fake_paddler_scripts as scripts
from tests.fake_paddler import FakePaddlerServer, HttpFailure, Reply, Sleep

PARAMS = ConversationParams((ConversationMessage("user", "Say hello"),), max_tokens=16)


async def collect(client: PaddlerClient, params: ConversationParams = PARAMS) -> list[PaddlerLine]:
    async with client.continue_from_conversation_history(params) as stream:
        return [line async for line in stream]


def messages(lines: list[PaddlerLine]) -> list[PaddlerMessage]:
    return [line.message for line in lines]


def closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


async def test_a_content_stream_yields_every_line_through_done(
    fake_paddler: FakePaddlerServer, paddler: PaddlerClient
) -> None:
    fake_paddler.script(scripts.plain_content("Hi", " there"))

    lines = await collect(paddler)

    assert messages(lines) == [
        ContentToken("Hi"),
        ContentToken(" there"),
        Done(TokenUsage(prompt_tokens=12, content_tokens=2)),
    ]


async def test_the_stream_exposes_paddler_request_id_and_agent_name(
    fake_paddler: FakePaddlerServer, paddler: PaddlerClient
) -> None:
    fake_paddler.script(
        Reply(
            [ContentToken("a"), Done(TokenUsage())],
            request_id="V1StGXR8_Z5jdHi6B-myT",
            generated_by="gpu-1",
        )
    )

    async with paddler.continue_from_conversation_history(PARAMS) as stream:
        async for _ in stream:
            pass

    assert (stream.request_id, stream.generated_by) == ("V1StGXR8_Z5jdHi6B-myT", "gpu-1")


async def test_the_request_body_is_the_params_json_without_origin(
    fake_paddler: FakePaddlerServer, paddler: PaddlerClient
) -> None:
    await collect(paddler)

    (request,) = fake_paddler.requests
    assert request.path == "/api/v1/continue_from_conversation_history"
    assert request.body == PARAMS.to_json()
    assert request.headers["content-type"] == "application/json"
    assert request.headers["connection"] == "close"
    assert "origin" not in request.headers


async def test_a_raw_prompt_goes_to_the_raw_prompt_route(
    fake_paddler: FakePaddlerServer, paddler: PaddlerClient
) -> None:
    params = RawPromptParams("The capital of France is", max_tokens=4)

    async with paddler.continue_from_raw_prompt(params) as stream:
        lines = [line async for line in stream]

    assert isinstance(lines[-1].message, Done)
    assert (fake_paddler.requests[0].path, fake_paddler.last_body) == (
        "/api/v1/continue_from_raw_prompt",
        params.to_json(),
    )


async def test_an_error_envelope_is_yielded_and_ends_the_stream(
    fake_paddler: FakePaddlerServer, paddler: PaddlerClient
) -> None:
    # A line after the envelope would be a Paddler bug; the client must not read that far.
    fake_paddler.script(
        Reply(
            [
                ContentToken("a"),
                ErrorEnvelope(502, "Agent controller connection closed"),
                ContentToken("late"),
            ]
        )
    )

    lines = await collect(paddler)

    assert messages(lines) == [
        ContentToken("a"),
        ErrorEnvelope(502, "Agent controller connection closed"),
    ]


async def test_a_body_ending_without_a_terminal_line_is_a_protocol_error(
    fake_paddler: FakePaddlerServer, paddler: PaddlerClient
) -> None:
    fake_paddler.script(scripts.ended_without_terminal("a", "b"))
    received: list[PaddlerLine] = []

    with pytest.raises(UpstreamProtocolError, match="without a terminal message"):
        async with paddler.continue_from_conversation_history(PARAMS) as stream:
            async for line in stream:
                received.append(line)

    assert messages(received) == [ContentToken("a"), ContentToken("b")]


async def test_an_endless_line_is_a_protocol_error_that_hangs_up(
    fake_paddler: FakePaddlerServer, paddler: PaddlerClient
) -> None:
    endless = ContentToken("x" * (MAX_LINE_BYTES + 1024 * 1024))
    fake_paddler.script(Reply([endless, Sleep(5.0), Done(TokenUsage())]))
    stream = await paddler.continue_from_conversation_history(PARAMS).open()

    with pytest.raises(UpstreamProtocolError, match="too long"):
        await anext(stream)

    assert await fake_paddler.wait_for_disconnect_async()


async def test_a_connection_dropped_mid_stream_is_an_upstream_failure(
    fake_paddler: FakePaddlerServer, paddler: PaddlerClient
) -> None:
    fake_paddler.script(scripts.dropped_after(2))

    with pytest.raises((UpstreamProtocolError, UpstreamUnavailable)):
        await collect(paddler)


async def test_a_plain_text_400_is_rejected_with_its_body(
    fake_paddler: FakePaddlerServer, paddler: PaddlerClient
) -> None:
    tool = FunctionTool("f", parameters={"type": "object", "properties": {}, "required": ["city"]})
    params = ConversationParams(PARAMS.conversation_history, max_tokens=16, tools=(tool,), parse_tool_calls=True)

    with pytest.raises(UpstreamRejected) as raised:
        await collect(paddler, params)

    assert raised.value.status == 400
    assert raised.value.body == "Invalid request parameters: Required field 'city' not found in properties"


async def test_a_scripted_http_failure_is_rejected_with_its_status(
    fake_paddler: FakePaddlerServer, paddler: PaddlerClient
) -> None:
    fake_paddler.script(HttpFailure(501, "Token generation is disabled while the cluster is configured for embeddings"))

    with pytest.raises(UpstreamRejected) as raised:
        await collect(paddler)

    assert (raised.value.status, raised.value.body) == (
        501,
        "Token generation is disabled while the cluster is configured for embeddings",
    )


async def test_a_long_rejection_body_is_cut_to_a_thousand_characters(
    fake_paddler: FakePaddlerServer, paddler: PaddlerClient
) -> None:
    fake_paddler.script(HttpFailure(400, "x" * 50_000))

    with pytest.raises(UpstreamRejected) as raised:
        await collect(paddler)

    assert raised.value.body == "x" * 1000


async def test_a_refused_connection_is_upstream_unavailable() -> None:
    client = PaddlerClient(f"http://127.0.0.1:{closed_port()}")
    try:
        with pytest.raises(UpstreamUnavailable) as raised:
            await collect(client)
    finally:
        await client.aclose()

    assert not isinstance(raised.value, UpstreamTimeout)


async def test_a_refused_connection_to_the_local_engine_names_it() -> None:
    client = PaddlerClient(f"http://127.0.0.1:{closed_port()}", local_engine=True)
    try:
        with pytest.raises(LocalEngineUnavailable):
            await collect(client)
    finally:
        await client.aclose()


async def test_silence_longer_than_the_read_timeout_is_upstream_timeout(
    fake_paddler: FakePaddlerServer,
) -> None:
    fake_paddler.script(Reply([ContentToken("a"), Sleep(2.0), ContentToken("b"), Done(TokenUsage())]))
    client = PaddlerClient(fake_paddler.url, read_timeout=0.2)
    try:
        with pytest.raises(UpstreamTimeout):
            await collect(client)
    finally:
        await client.aclose()


async def test_closing_the_stream_early_hangs_up_on_paddler(
    fake_paddler: FakePaddlerServer, paddler: PaddlerClient
) -> None:
    fake_paddler.script(scripts.slow_stream(20, 0.05))

    async with paddler.continue_from_conversation_history(PARAMS) as stream:
        async for _ in stream:
            break

    assert await fake_paddler.wait_for_disconnect_async()
    assert fake_paddler.lines_sent_before_disconnect is not None and fake_paddler.lines_sent_before_disconnect < 20


async def test_cancelling_the_reader_hangs_up_and_propagates_the_cancellation(
    fake_paddler: FakePaddlerServer, paddler: PaddlerClient
) -> None:
    fake_paddler.script(scripts.slow_stream(1, 30.0))
    task = asyncio.create_task(collect(paddler))
    assert await fake_paddler.wait_for_requests_async(1)
    await asyncio.sleep(0.05)

    task.cancel()

    with pytest.raises(asyncio.CancelledError):
        await task
    assert await fake_paddler.wait_for_disconnect_async()


async def test_reading_to_the_end_does_not_count_as_hanging_up(
    fake_paddler: FakePaddlerServer, paddler: PaddlerClient
) -> None:
    await collect(paddler)

    assert not await fake_paddler.wait_for_disconnect_async(timeout=0.1)


async def test_closing_is_idempotent(fake_paddler: FakePaddlerServer, paddler: PaddlerClient) -> None:
    stream = await paddler.continue_from_conversation_history(PARAMS).open()

    await stream.aclose()
    await stream.aclose()

    with pytest.raises(StopAsyncIteration):
        await anext(stream)


async def test_health_is_true_when_paddler_answers(paddler: PaddlerClient) -> None:
    assert await paddler.check_health() is True


async def test_health_is_false_when_nothing_listens() -> None:
    client = PaddlerClient(f"http://127.0.0.1:{closed_port()}")
    try:
        assert await client.check_health() is False
    finally:
        await client.aclose()
