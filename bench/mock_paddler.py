"""A lean mock Paddler for the benchmark: raw asyncio, pre-encoded lines, nothing else.

The test suite's fake Paddler (``tests/fake_paddler.py``) is strict and scriptable, and
costs uvicorn + JSON per line; the benchmark needs the opposite — an upstream so cheap that what
is measured is Oarlock. One process serves both wire formats with the same tokens:

- ``POST /api/v1/continue_from_conversation_history``: Paddler's NDJSON (what Oarlock calls);
- ``POST /v1/chat/completions``: OpenAI's chat format, streaming (SSE) or not (what LiteLLM
  calls, and what the "floor" baseline calls directly).

The answer is chosen by the prompt text, so one mock serves every scenario of a run:
``tokens=N`` (default ``--tokens``) and ``delay_ms=D`` (default ``--delay-ms``) anywhere in the
body; ``drop_after=K`` cuts the NDJSON stream after K tokens, without a terminal line (an agent
that died mid-answer, for the chaos run). Like Paddler (actix with keep-alive disabled, protocol reference 1.1) every response says
``Connection: close`` and the connection is closed after it, so each upstream request pays a TCP
connect — for Oarlock and LiteLLM alike. ``GET /__stats`` reports counters as JSON.

    python -m bench.mock_paddler --port 8199 --tokens 64
"""

from __future__ import annotations

import argparse
import asyncio
import json
import re
import signal
import time
from dataclasses import dataclass, field
from typing import Final

NDJSON_PATH: Final = b"/api/v1/continue_from_conversation_history"
CHAT_PATH: Final = b"/v1/chat/completions"
STATS_PATH: Final = b"/__stats"
HEALTH_PATH: Final = b"/health"
TOKEN_TEXT: Final = " lorem"
MAX_HEADER_BYTES: Final = 64 * 1024

_TOKENS_RE: Final = re.compile(rb"tokens=(\d+)")
_DELAY_RE: Final = re.compile(rb"delay_ms=(\d+)")
_DROP_RE: Final = re.compile(rb"drop_after=(\d+)")
_STREAM_RE: Final = re.compile(rb'"stream"\s*:\s*true')
_INCLUDE_USAGE_RE: Final = re.compile(rb'"include_usage"\s*:\s*true')
_CONTENT_LENGTH_RE: Final = re.compile(rb"\r\ncontent-length:\s*(\d+)", re.IGNORECASE)

_CLOSE_HEADERS: Final = b"connection: close\r\n"


@dataclass
class MockStats:
    started: int = 0
    completed: int = 0
    disconnected: int = 0
    open: int = 0
    by_path: dict[str, int] = field(default_factory=dict)

    def to_json(self) -> bytes:
        return json.dumps(
            {
                "started": self.started,
                "completed": self.completed,
                "disconnected": self.disconnected,
                "open": self.open,
                "by_path": self.by_path,
            }
        ).encode()


@dataclass(frozen=True, slots=True)
class Answer:
    """What one request asked for: how many tokens, how far apart, in which format."""

    tokens: int
    delay: float
    stream: bool
    include_usage: bool
    drop_after: int | None = None


def _chunk(payload: bytes) -> bytes:
    return b"%x\r\n%s\r\n" % (len(payload), payload)


_LAST_CHUNK: Final = b"0\r\n\r\n"


class _Encoder:
    """Wire bytes for one answer; the per-token bytes are built once per request."""

    @staticmethod
    def ndjson_token(request_id: str) -> bytes:
        line = {
            "Response": {
                "generated_by": "mock",
                "request_id": request_id,
                "response": {"GeneratedToken": {"ContentToken": TOKEN_TEXT}},
            }
        }
        return _chunk(json.dumps(line, separators=(",", ":")).encode() + b"\n")

    @staticmethod
    def ndjson_done(request_id: str, tokens: int) -> bytes:
        usage = {
            "prompt_tokens": 12,
            "cached_prompt_tokens": 0,
            "input_image_tokens": 0,
            "input_audio_tokens": 0,
            "content_tokens": tokens,
            "reasoning_tokens": 0,
            "tool_call_tokens": 0,
            "undeterminable_tokens": 0,
        }
        line = {
            "Response": {
                "generated_by": "mock",
                "request_id": request_id,
                "response": {"GeneratedToken": {"Done": {"usage": usage}}},
            }
        }
        return _chunk(json.dumps(line, separators=(",", ":")).encode() + b"\n")

    @staticmethod
    def chat_chunk(completion_id: str, delta: dict[str, str], finish: str | None) -> bytes:
        chunk = {
            "id": completion_id,
            "object": "chat.completion.chunk",
            "created": int(time.time()),
            "model": "bench",
            "choices": [{"index": 0, "delta": delta, "finish_reason": finish}],
        }
        return _chunk(b"data: " + json.dumps(chunk, separators=(",", ":")).encode() + b"\n\n")

    @staticmethod
    def chat_usage(completion_id: str, tokens: int) -> bytes:
        chunk = {
            "id": completion_id,
            "object": "chat.completion.chunk",
            "created": int(time.time()),
            "model": "bench",
            "choices": [],
            "usage": {"prompt_tokens": 12, "completion_tokens": tokens, "total_tokens": 12 + tokens},
        }
        return _chunk(b"data: " + json.dumps(chunk, separators=(",", ":")).encode() + b"\n\n")

    @staticmethod
    def chat_body(completion_id: str, tokens: int) -> bytes:
        body = {
            "id": completion_id,
            "object": "chat.completion",
            "created": int(time.time()),
            "model": "bench",
            "choices": [
                {
                    "index": 0,
                    "message": {"role": "assistant", "content": TOKEN_TEXT * tokens},
                    "finish_reason": "stop",
                }
            ],
            "usage": {"prompt_tokens": 12, "completion_tokens": tokens, "total_tokens": 12 + tokens},
        }
        return json.dumps(body, separators=(",", ":")).encode()


class _ClientGone(Exception):
    """The client closed the connection mid-answer (what cancels a generation on Paddler)."""


class MockPaddlerProtocol(asyncio.Protocol):
    """One connection: read one request, answer it, close (no keep-alive, like Paddler)."""

    def __init__(self, server: MockPaddler) -> None:
        self._server = server
        self._buffer = bytearray()
        self._transport: asyncio.Transport | None = None
        self._task: asyncio.Task[None] | None = None
        self._answering = False

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.Transport)
        self._transport = transport

    def data_received(self, data: bytes) -> None:
        if self._answering:
            return
        self._buffer += data
        end = self._buffer.find(b"\r\n\r\n")
        if end < 0:
            if len(self._buffer) > MAX_HEADER_BYTES:
                self._reply(b"431 Request Header Fields Too Large", b"text/plain", b"")
            return
        head = bytes(self._buffer[: end + 2])
        match = _CONTENT_LENGTH_RE.search(head)
        length = int(match.group(1)) if match else 0
        if len(self._buffer) < end + 4 + length:
            return
        body = bytes(self._buffer[end + 4 : end + 4 + length])
        self._answering = True
        self._dispatch(head, body)

    def connection_lost(self, exc: Exception | None) -> None:
        self._transport = None
        if self._task is not None and not self._task.done():
            self._task.cancel()

    def _dispatch(self, head: bytes, body: bytes) -> None:
        method, _, rest = head.partition(b" ")
        path = rest.partition(b" ")[0].partition(b"?")[0]
        stats = self._server.stats
        stats.by_path[path.decode("latin-1")] = stats.by_path.get(path.decode("latin-1"), 0) + 1
        if method == b"GET" and path == HEALTH_PATH:
            self._reply(b"200 OK", b"text/plain", b"OK")
        elif method == b"GET" and path == STATS_PATH:
            self._reply(b"200 OK", b"application/json", stats.to_json())
        elif method == b"POST" and path in (NDJSON_PATH, CHAT_PATH):
            answer = self._server.answer_for(body)
            if path == CHAT_PATH and not answer.stream and answer.delay == 0:
                completion_id = self._server.next_id("chatcmpl-mock")
                stats.started += 1
                stats.completed += 1
                self._reply(b"200 OK", b"application/json", _Encoder.chat_body(completion_id, answer.tokens))
                return
            self._task = asyncio.ensure_future(self._stream(path, answer))
        else:
            self._reply(b"404 Not Found", b"text/plain", b"")

    def _reply(self, status: bytes, content_type: bytes, body: bytes) -> None:
        transport = self._transport
        if transport is None:
            return
        transport.write(
            b"HTTP/1.1 %s\r\ncontent-type: %s\r\ncontent-length: %d\r\n%s\r\n%s"
            % (status, content_type, len(body), _CLOSE_HEADERS, body)
        )
        transport.close()

    async def _stream(self, path: bytes, answer: Answer) -> None:
        stats = self._server.stats
        stats.started += 1
        stats.open += 1
        finished = False
        try:
            if path == NDJSON_PATH:
                await self._stream_ndjson(answer)
            elif answer.stream:
                await self._stream_chat(answer)
            else:
                await self._slow_chat_body(answer)
            finished = True
        except _ClientGone:
            pass
        finally:
            stats.open -= 1
            if finished:
                stats.completed += 1
            else:
                stats.disconnected += 1
            if self._transport is not None:
                self._transport.close()

    def _write(self, data: bytes) -> None:
        if self._transport is None or self._transport.is_closing():
            raise _ClientGone()
        self._transport.write(data)

    async def _pause(self, answer: Answer) -> None:
        # With no delay, still yield between tokens so that each one leaves as its own write,
        # as Paddler's do when the model produces them one by one.
        await asyncio.sleep(answer.delay)

    async def _stream_ndjson(self, answer: Answer) -> None:
        request_id = self._server.next_id("mock")
        self._write(
            b"HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncache-control: no-cache\r\n"
            b"transfer-encoding: chunked\r\n" + _CLOSE_HEADERS + b"\r\n"
        )
        token = _Encoder.ndjson_token(request_id)
        for index in range(answer.tokens):
            if index == answer.drop_after:
                assert self._transport is not None
                self._transport.abort()
                raise _ClientGone()
            await self._pause(answer)
            self._write(token)
        self._write(_Encoder.ndjson_done(request_id, answer.tokens) + _LAST_CHUNK)

    async def _stream_chat(self, answer: Answer) -> None:
        completion_id = self._server.next_id("chatcmpl-mock")
        self._write(
            b"HTTP/1.1 200 OK\r\ncontent-type: text/event-stream\r\ncache-control: no-cache\r\n"
            b"transfer-encoding: chunked\r\n" + _CLOSE_HEADERS + b"\r\n"
        )
        first = True
        token = _Encoder.chat_chunk(completion_id, {"content": TOKEN_TEXT}, None)
        for _ in range(answer.tokens):
            await self._pause(answer)
            if first:
                self._write(_Encoder.chat_chunk(completion_id, {"role": "assistant", "content": TOKEN_TEXT}, None))
                first = False
            else:
                self._write(token)
        tail = _Encoder.chat_chunk(completion_id, {}, "stop")
        if answer.include_usage:
            tail += _Encoder.chat_usage(completion_id, answer.tokens)
        self._write(tail + _chunk(b"data: [DONE]\n\n") + _LAST_CHUNK)

    async def _slow_chat_body(self, answer: Answer) -> None:
        for _ in range(answer.tokens):
            await self._pause(answer)
        body = _Encoder.chat_body(self._server.next_id("chatcmpl-mock"), answer.tokens)
        self._write(
            b"HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: %d\r\n%s\r\n%s"
            % (len(body), _CLOSE_HEADERS, body)
        )


class MockPaddler:
    def __init__(self, *, tokens: int, delay_ms: float) -> None:
        self.default_tokens = tokens
        self.default_delay = delay_ms / 1000
        self.stats = MockStats()
        self._counter = 0

    def next_id(self, prefix: str) -> str:
        self._counter += 1
        return f"{prefix}-{self._counter}"

    def answer_for(self, body: bytes) -> Answer:
        tokens = _TOKENS_RE.search(body)
        delay = _DELAY_RE.search(body)
        drop = _DROP_RE.search(body)
        return Answer(
            tokens=int(tokens.group(1)) if tokens else self.default_tokens,
            delay=int(delay.group(1)) / 1000 if delay else self.default_delay,
            stream=_STREAM_RE.search(body) is not None,
            include_usage=_INCLUDE_USAGE_RE.search(body) is not None,
            drop_after=int(drop.group(1)) if drop else None,
        )

    async def serve(self, host: str, port: int) -> None:
        loop = asyncio.get_running_loop()
        server = await loop.create_server(
            lambda: MockPaddlerProtocol(self), host, port, backlog=4096, reuse_address=True
        )
        stop = asyncio.Event()
        for signum in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(signum, stop.set)
        print(f"mock paddler listening on http://{host}:{port}", flush=True)
        async with server:
            await stop.wait()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--tokens", type=int, default=64, help="tokens per answer unless the prompt says tokens=N")
    parser.add_argument(
        "--delay-ms", type=float, default=0.0, help="delay before each token unless the prompt says delay_ms=D"
    )
    args = parser.parse_args()
    if args.host not in ("127.0.0.1", "localhost", "::1"):
        parser.error("the mock serves on the loopback interface only")
    asyncio.run(MockPaddler(tokens=args.tokens, delay_ms=args.delay_ms).serve(args.host, args.port))


if __name__ == "__main__":
    main()
