"""``ResponseStream`` around a scripted upstream: the meter, the store and the upstream are each
finished exactly once, whatever ended the stream."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass, field
from typing import Any

import pytest

from compat_api.responses import response_stream
from compat_api.responses.request import ResponsesRequest
from compat_api.responses.response_object import ResponseObjectBuilder
from compat_api.responses.response_stream import ResponseStream
from compat_api.responses.stream_state import ResponsesStreamState
from paddler_protocol.errors import UpstreamErrorReply
from paddler_protocol.paddler_message import ContentToken, Done, PaddlerMessage
from paddler_protocol.token_usage import TokenUsage

DONE = Done(TokenUsage(prompt_tokens=3, content_tokens=1))


@dataclass
class RecordingMeter:
    finishes: list[tuple[str, int, Any]] = field(default_factory=list)

    @property
    def finished(self) -> bool:
        return bool(self.finishes)

    def finish(self, *, outcome: str, http_status: int, error: Any = None) -> None:
        self.finishes.append((outcome, http_status, error))


class ScriptedUpstream:
    """Stands in for ``UpstreamStream``: yields messages, raises a scripted failure, or waits."""

    def __init__(self, messages: Sequence[PaddlerMessage | BaseException], *, hang: bool = False) -> None:
        self.meter = RecordingMeter()
        self.paddler_request_id = "pid"
        self.generated_by = "agent"
        self.closed = 0
        self._messages = list(messages)
        self._hang = hang
        # Every message arrives on its own (none is buffered behind another): one part each.
        self.message_ready = False

    def __aiter__(self) -> AsyncIterator[PaddlerMessage]:
        return self._iterate()

    async def _iterate(self) -> AsyncIterator[PaddlerMessage]:
        for message in self._messages:
            if isinstance(message, BaseException):
                raise message
            yield message
        if self._hang:
            await asyncio.sleep(3600)

    async def aclose(self) -> None:
        self.closed += 1


@pytest.fixture
def saved(monkeypatch: pytest.MonkeyPatch) -> list[dict[str, Any]]:
    calls: list[dict[str, Any]] = []

    def save_response(**kwargs: Any) -> None:
        calls.append(kwargs)

    monkeypatch.setattr(response_stream, "store_response_later", save_response)
    return calls


def make_stream(upstream: ScriptedUpstream, *, store: bool = True, max_tokens: int = 100) -> ResponseStream:
    request = ResponsesRequest(model="m", store=store)
    state = ResponsesStreamState(
        builder=ResponseObjectBuilder("resp_1", 1, request),
        max_tokens=max_tokens,
        new_id=lambda prefix: f"{prefix}_1",
        now=lambda: 2,
    )
    return ResponseStream(
        request=request,
        tenant_id=7,
        upstream=upstream,  # type: ignore[arg-type]
        state=state,
        input_items=({"id": "msg_in", "type": "message"},),
    )


async def read_all(stream: ResponseStream) -> list[bytes]:
    """The body's SSE events, each ``event:`` and ``data:`` line with its blank line."""
    body = b"".join([chunk async for chunk in stream.sse_bytes()])
    assert body.endswith(b"\n\n")
    return [block + b"\n\n" for block in body.split(b"\n\n")[:-1]]


async def test_a_completed_stream_finishes_the_meter_closes_upstream_and_stores_once(saved):
    upstream = ScriptedUpstream([ContentToken("Hi"), DONE])

    chunks = await read_all(make_stream(upstream))

    assert chunks[-1].startswith(b"event: response.completed\n")
    assert upstream.meter.finishes == [("completed", 200, None)]
    assert upstream.closed == 1
    assert [call["response"]["status"] for call in saved] == ["completed"]
    assert saved[0]["tenant_id"] == 7
    assert saved[0]["input_items"] == ({"id": "msg_in", "type": "message"},)


async def test_store_false_stores_nothing(saved):
    await read_all(make_stream(ScriptedUpstream([ContentToken("Hi"), DONE]), store=False))

    assert saved == []


async def test_a_failing_store_never_costs_the_terminal_event(monkeypatch: pytest.MonkeyPatch):
    def broken_save(**kwargs: Any) -> None:
        raise RuntimeError("database is locked")

    monkeypatch.setattr(response_stream, "store_response_later", broken_save)
    upstream = ScriptedUpstream([ContentToken("Hi"), DONE])

    chunks = await read_all(make_stream(upstream))

    assert chunks[-1].startswith(b"event: response.completed\n")
    assert upstream.closed == 1


async def test_a_failure_mid_stream_ends_with_error_and_failed_and_is_metered_as_failed(saved):
    failure = UpstreamErrorReply(502, "Agent controller connection closed")
    upstream = ScriptedUpstream([ContentToken("Hi"), failure])

    chunks = await read_all(make_stream(upstream))

    assert [chunk.split(b"\n", 1)[0] for chunk in chunks[-2:]] == [
        b"event: error",
        b"event: response.failed",
    ]
    assert upstream.meter.finishes == [("failed", 200, failure)]
    assert [call["response"]["status"] for call in saved] == ["failed"]


async def test_an_upstream_that_ends_without_done_fails_the_response(saved):
    upstream = ScriptedUpstream([ContentToken("Hi")])

    chunks = await read_all(make_stream(upstream))

    assert chunks[-1].startswith(b"event: response.failed\n")
    assert upstream.meter.finishes[0][0] == "failed"


async def test_the_limit_reached_is_metered_as_incomplete(saved):
    upstream = ScriptedUpstream([ContentToken("Hi"), DONE])

    await read_all(make_stream(upstream, max_tokens=1))

    assert upstream.meter.finishes == [("incomplete", 200, None)]


async def test_a_client_that_goes_away_is_metered_once_as_disconnected_and_nothing_is_stored(saved):
    upstream = ScriptedUpstream([ContentToken("Hi")], hang=True)
    body = make_stream(upstream).sse_bytes()
    await body.__anext__()  # response.created

    await body.aclose()

    assert upstream.meter.finishes == [("client_disconnected", 499, "ClientDisconnected")]
    assert upstream.closed == 1
    assert saved == []


async def test_a_cancelled_stream_reraises_after_cleaning_up(saved):
    upstream = ScriptedUpstream([ContentToken("Hi")], hang=True)
    stream = make_stream(upstream)

    async def consume() -> None:
        async for _ in stream.sse_bytes():
            pass

    task = asyncio.ensure_future(consume())
    await asyncio.sleep(0.05)
    task.cancel()

    with pytest.raises(asyncio.CancelledError):
        await task
    assert upstream.meter.finishes == [("client_disconnected", 499, "ClientDisconnected")]
    assert upstream.closed == 1


async def test_the_non_streaming_body_is_the_terminal_snapshot(saved):
    upstream = ScriptedUpstream([ContentToken("Hi"), DONE])

    body = await make_stream(upstream).body()

    assert body["status"] == "completed"
    assert body["output"][0]["content"][0]["text"] == "Hi"
    assert saved[0]["response"] == body
    assert upstream.closed == 1


async def test_the_non_streaming_body_raises_a_failure_for_the_view_to_map(saved):
    failure = UpstreamErrorReply(504, "Inference timed out")
    upstream = ScriptedUpstream([ContentToken("Hi"), failure])

    with pytest.raises(UpstreamErrorReply):
        await make_stream(upstream).body()

    assert upstream.closed == 1
    assert saved == []
