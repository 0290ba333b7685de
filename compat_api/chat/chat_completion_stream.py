"""One chat completion in flight: Paddler's stream driven through ``ChatStreamState``.

``open`` returns only once Paddler's first message has arrived, so a refusal (overflow, slot
timeout, template error, unknown model) is raised before any byte and becomes a real HTTP
status. After that, ``sse_bytes`` (``RelayStream``) relays chunks — and a failure travels
in-band as ``data: {"error": ...}`` then ``data: [DONE]`` — or ``body`` folds the same chunks
into one ``chat.completion``.
"""

from __future__ import annotations

import time
from collections.abc import AsyncIterator, Iterable

from django.conf import settings

from compat_api.chat.chunk import ChatChunk, ChunkHead
from compat_api.chat.completion_body import ChatCompletionBody, fold_chunks
from compat_api.chat.paddler_params import build_paddler_params
from compat_api.chat.request import ChatCompletionRequest
from compat_api.chat.stream_state import ChatStreamState
from compat_api.random_id import random_alphanumeric
from compat_api.relay_stream import RelayStream
from compat_api.request_lifecycle import RequestLifecycle
from compat_api.sse import SSE_DONE, encode_sse
from compat_api.upstream_stream import UpstreamStream
from paddler_protocol.errors import UpstreamProtocolError
from paddler_protocol.paddler_message import PaddlerMessage
from usage.usage_meter import Outcome


def new_completion_id() -> str:
    return "chatcmpl-" + random_alphanumeric(29)


def new_tool_call_id() -> str:
    return "call_" + random_alphanumeric(24)


class ChatCompletionStream(RelayStream):
    _log_name = "chat completion stream"

    def __init__(self, *, upstream: UpstreamStream, state: ChatStreamState) -> None:
        self._upstream = upstream
        self._state = state

    @classmethod
    async def open(cls, request: ChatCompletionRequest, *, lifecycle: RequestLifecycle) -> ChatCompletionStream:
        params = await lifecycle.compute(build_paddler_params, request)
        created = int(time.time())
        upstream = await lifecycle.open_upstream(model=request.model, params=params, streamed=request.stream)
        state = ChatStreamState(
            # The folded body always carries usage, so a non-streaming run always asks for it.
            head=ChunkHead(new_completion_id(), created, request.model, request.include_usage or not request.stream),
            max_tokens=params.max_tokens,
            new_tool_call_id=new_tool_call_id,
            reasoning_field=settings.OARLOCK_CHAT_REASONING_FIELD,
            parallel_tool_calls=request.parallel_tool_calls,
        )
        return cls(upstream=upstream, state=state)

    async def body(self) -> ChatCompletionBody:
        """The whole ``chat.completion``; a failure is raised (the view maps it to a status)."""
        chunks = await self._collect(self._chunks())
        self._finish(self._completed_outcome())
        return fold_chunks(chunks, reasoning_field=self._state.reasoning_field)

    # SSE: chunks, maybe one in-band error, then ``data: [DONE]``.
    def _sse_payloads(self, message: PaddlerMessage) -> Iterable[bytes]:
        return [encode_sse(chunk) for chunk in self._state.on_message(message)]

    def _answer_finished(self) -> bool:
        return self._state.finished

    def _sse_failure(self, error: Exception) -> Iterable[bytes]:
        self._finish("failed", error)
        return [*(encode_sse(payload) for payload in self._state.on_error(error)), SSE_DONE]

    def _sse_end(self) -> Iterable[bytes]:
        self._finish(self._completed_outcome())
        return (SSE_DONE,)

    async def _chunks(self) -> AsyncIterator[ChatChunk]:
        async for message in self._upstream:
            for chunk in self._state.on_message(message):
                yield chunk
            if self._state.finished:
                return
        raise UpstreamProtocolError(self._unfinished_message)

    def _completed_outcome(self) -> Outcome:
        return "incomplete" if self._state.finish_reason == "length" else "completed"

    def _end_details(self) -> str:
        return f"finish_reason={self._state.finish_reason or '-'} tool_calls={self._state.tool_calls_sent}"
