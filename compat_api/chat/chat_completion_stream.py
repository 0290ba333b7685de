"""One chat completion in flight: Paddler's stream driven through ``ChatStreamState``.

``open`` returns only once Paddler's first message has arrived, so a refusal (overflow, slot
timeout, template error, unknown model) is raised before any byte and becomes a real HTTP
status. After that, ``sse_bytes`` relays chunks — and a failure travels in-band as
``data: {"error": ...}`` then ``data: [DONE]`` — or ``body`` folds the same chunks into one
``chat.completion``. Either way the upstream is closed in ``finally`` (which is what tells
Paddler to stop generating) and the usage meter is finished with the outcome.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import AsyncIterator

from django.conf import settings

from compat_api.chat.chunk import ChatChunk, ChunkHead
from compat_api.chat.completion_body import ChatCompletionBody, fold_chunks
from compat_api.chat.paddler_params import build_paddler_params
from compat_api.chat.request import ChatCompletionRequest
from compat_api.chat.stream_state import ChatStreamState
from compat_api.random_id import random_alphanumeric
from compat_api.sse import SSE_DONE, encode_sse
from compat_api.upstream_stream import UpstreamStream
from paddler_protocol.errors import UpstreamProtocolError
from foundation.errors import OarlockError
from usage.usage_meter import Outcome, UsageMeter

logger = logging.getLogger(__name__)


def new_completion_id() -> str:
    return "chatcmpl-" + random_alphanumeric(29)


def new_tool_call_id() -> str:
    return "call_" + random_alphanumeric(24)


class ChatCompletionStream:
    def __init__(self, *, upstream: UpstreamStream, state: ChatStreamState, meter: UsageMeter) -> None:
        self._upstream = upstream
        self._state = state
        self._meter = meter

    @classmethod
    async def open(cls, request: ChatCompletionRequest, *, meter: UsageMeter) -> ChatCompletionStream:
        params = build_paddler_params(request)
        meter.streamed = request.stream
        created = int(time.time())
        upstream = await UpstreamStream.open(model=request.model, params=params, meter=meter)
        state = ChatStreamState(
            # The folded body always carries usage, so a non-streaming run always asks for it.
            head=ChunkHead(new_completion_id(), created, request.model, request.include_usage or not request.stream),
            max_tokens=params.max_tokens,
            new_tool_call_id=new_tool_call_id,
            reasoning_field=settings.OARLOCK_CHAT_REASONING_FIELD,
            parallel_tool_calls=request.parallel_tool_calls,
        )
        return cls(upstream=upstream, state=state, meter=meter)

    async def sse_bytes(self) -> AsyncIterator[bytes]:
        """The SSE body: chunks, maybe one in-band error, then ``data: [DONE]``."""
        try:
            try:
                async for chunk in self._chunks():
                    yield encode_sse(chunk)
            except asyncio.CancelledError:
                raise
            except Exception as error:
                self._finish("failed", error)
                for payload in self._state.on_error(error):
                    yield encode_sse(payload)
            else:
                self._finish(self._completed_outcome())
            yield SSE_DONE
        except (asyncio.CancelledError, GeneratorExit):
            self._finish("client_disconnected", "ClientDisconnected")
            raise
        finally:
            await self._upstream.aclose()

    async def body(self) -> ChatCompletionBody:
        """The whole ``chat.completion``; a failure is raised (the view maps it to a status)."""
        try:
            chunks = [chunk async for chunk in self._chunks()]
        except asyncio.CancelledError:
            self._finish("client_disconnected", "ClientDisconnected")
            raise
        finally:
            await self._upstream.aclose()
        self._finish(self._completed_outcome())
        return fold_chunks(chunks, reasoning_field=self._state.reasoning_field)

    async def _chunks(self) -> AsyncIterator[ChatChunk]:
        async for message in self._upstream:
            for chunk in self._state.on_message(message):
                yield chunk
            if self._state.finished:
                return
        raise UpstreamProtocolError("The upstream ended the stream before the answer was finished.")

    def _completed_outcome(self) -> Outcome:
        return "incomplete" if self._state.finish_reason == "length" else "completed"

    def _finish(self, outcome: Outcome, error: BaseException | str | None = None) -> None:
        if self._meter.finished:
            return
        status = 499 if outcome == "client_disconnected" else 200
        self._meter.finish(outcome=outcome, http_status=status, error=error)
        if isinstance(error, BaseException) and not isinstance(error, OarlockError):
            logger.error("chat completion stream failed", exc_info=error)
        # The request's one INFO summary line is the usage meter's; this adds the chat details.
        logger.debug(
            "chat completion end outcome=%s finish_reason=%s tool_calls=%s paddler_request_id=%s "
            "generated_by=%s",
            outcome,
            self._state.finish_reason or "-",
            self._state.tool_calls_sent,
            self._upstream.paddler_request_id or "-",
            self._upstream.generated_by or "-",
        )
