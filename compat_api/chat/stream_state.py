"""Paddler messages in, ``chat.completion.chunk`` objects out (wire-format reference 3).

The ordering rules live here only: a role chunk first (``content: ""``, or ``null`` when the
turn opens with a tool call); content, reasoning and tool calls in separate chunks; one chunk
per tool call whose first (and only) delta carries ``index``, ``id``, ``type`` and the complete
``function`` — Paddler sends each call whole, never in fragments; the index runs across the
whole response (Paddler's own layer restarts it per ``ToolCallParsed`` batch, which makes
clients concatenate two calls into one); a separate finish chunk with an empty delta; the usage
chunk last, only when asked for. Ids, ``created`` and the tool-call id source are injected.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, assert_never

from compat_api.chat.chunk import (
    ChatChunk,
    ChunkHead,
    FinishReason,
    chat_chunk,
    tool_call_delta,
    usage_chunk,
)
from compat_api.error_envelope import describe_error, error_body
from paddler_protocol.message_errors import error_for_message
from paddler_protocol.paddler_message import (
    ContentToken,
    Done,
    ErrorEnvelope,
    GenerationError,
    PaddlerMessage,
    ParsedToolCall,
    ReasoningToken,
    ToolCallParsed,
    ToolCallParseFailed,
    ToolCallToken,
    ToolCallValidationFailed,
    UndeterminableToken,
    UnrecognizedToolCallFormat,
)
from paddler_protocol.token_usage import TokenUsage

# What a stream carries: chunks, or once, the in-band ``{"error": {...}}`` object.
StreamPayload = ChatChunk | dict[str, Any]


@dataclass
class ChatStreamState:
    head: ChunkHead
    # The max_tokens Paddler was sent: reaching it is how "length" is recognised.
    max_tokens: int
    new_tool_call_id: Callable[[], str]
    # The delta field for reasoning text; "" drops reasoning text.
    reasoning_field: str = "reasoning_content"
    # False: at most one tool call per turn, as OpenAI promises; later calls are not relayed.
    parallel_tool_calls: bool = True
    role_sent: bool = False
    tool_calls_sent: int = 0
    finish_reason: FinishReason | None = None
    usage: TokenUsage | None = None
    finished: bool = False

    def on_message(self, message: PaddlerMessage) -> list[ChatChunk]:
        """The chunks ``message`` turns into. An error variant is raised as its exception."""
        if self.finished:
            return []
        match message:
            case ContentToken(text) | UndeterminableToken(text):
                return self._delta({"content": text}) if text else []
            case ReasoningToken(text):
                if not text or not self.reasoning_field:
                    return []
                return self._delta({self.reasoning_field: text})
            case ToolCallToken():
                # Raw tool-call markup; the parsed call follows as ToolCallParsed.
                return []
            case ToolCallParsed(calls):
                return self._tool_calls(calls)
            case Done(usage):
                return self._done(usage)
            case (
                ErrorEnvelope()
                | GenerationError()
                | ToolCallParseFailed()
                | ToolCallValidationFailed()
                | UnrecognizedToolCallFormat()
            ):
                error = error_for_message(message)
                assert error is not None
                raise error
            case _:
                assert_never(message)

    def on_error(self, error: BaseException) -> list[StreamPayload]:
        """After streaming started, a failure travels in-band: one error object, then the end."""
        if self.finished:
            return []
        self.finished = True
        return [error_body(describe_error(error))]

    def _role(self, content: str | None) -> list[ChatChunk]:
        if self.role_sent:
            return []
        self.role_sent = True
        return [chat_chunk(self.head, {"role": "assistant", "content": content})]

    def _delta(self, delta: dict[str, object]) -> list[ChatChunk]:
        return [*self._role(""), chat_chunk(self.head, delta)]

    def _tool_calls(self, calls: tuple[ParsedToolCall, ...]) -> list[ChatChunk]:
        chunks: list[ChatChunk] = []
        for call in calls:
            if not self.parallel_tool_calls and self.tool_calls_sent >= 1:
                break
            chunks += self._role(None)
            delta = tool_call_delta(self.tool_calls_sent, call.id or self.new_tool_call_id(), call.name, call.arguments)
            chunks.append(chat_chunk(self.head, {"tool_calls": [delta]}))
            self.tool_calls_sent += 1
        return chunks

    def _done(self, usage: TokenUsage) -> list[ChatChunk]:
        self.finished = True
        self.usage = usage
        self.finish_reason = self._finish_reason(usage)
        chunks = [*self._role(""), chat_chunk(self.head, {}, self.finish_reason)]
        if self.head.include_usage:
            chunks.append(usage_chunk(self.head, usage))
        return chunks

    def _finish_reason(self, usage: TokenUsage) -> FinishReason:
        if self.tool_calls_sent:
            # Agents only run tools on "tool_calls", whatever else happened.
            return "tool_calls"
        # Done does not say why generation stopped; reaching the budget is "length"
        # (protocol reference 2.3; an end-of-generation landing exactly on it looks the same).
        if usage.max_tokens_counted >= self.max_tokens:
            return "length"
        return "stop"
