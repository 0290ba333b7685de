"""The non-streaming ``chat.completion`` object, folded from the very chunks a stream would carry.

One transformer (``ChatStreamState``) serves both modes, so the two cannot drift: the body is
the SDK's own accumulation of the stream (wire-format reference 2, 3.7).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Literal, NotRequired, TypedDict

from compat_api.chat.chunk import SERVICE_TIER, ChatChunk, ChatUsage, FinishReason


class FunctionCall(TypedDict):
    name: str
    arguments: str


class MessageToolCall(TypedDict):
    id: str
    type: Literal["function"]
    function: FunctionCall


class AssistantMessage(TypedDict, total=False):
    role: Literal["assistant"]
    content: str | None
    refusal: None
    annotations: list[object]
    tool_calls: list[MessageToolCall]
    # Plus the reasoning field (its name is a setting) when the model reasoned.


class CompletionChoice(TypedDict):
    index: int
    message: AssistantMessage
    logprobs: None
    finish_reason: FinishReason


class ChatCompletionBody(TypedDict):
    id: str
    object: Literal["chat.completion"]
    created: int
    model: str
    choices: list[CompletionChoice]
    usage: NotRequired[ChatUsage]
    service_tier: str


def fold_chunks(chunks: Iterable[ChatChunk], *, reasoning_field: str) -> ChatCompletionBody:
    """Join content and reasoning deltas, assemble tool calls by index, keep finish and usage."""
    content: list[str] = []
    reasoning: list[str] = []
    calls: dict[int, MessageToolCall] = {}
    finish_reason: FinishReason = "stop"
    usage: ChatUsage | None = None
    head: ChatChunk | None = None
    for chunk in chunks:
        head = head or chunk
        if chunk.get("usage"):
            usage = chunk["usage"]
        for choice in chunk["choices"]:
            delta = choice["delta"]
            if isinstance(delta.get("content"), str):
                content.append(delta["content"])  # type: ignore[arg-type]  # checked str just above
            if reasoning_field and isinstance(delta.get(reasoning_field), str):
                reasoning.append(delta[reasoning_field])  # type: ignore[arg-type]  # checked str just above
            for call in delta.get("tool_calls") or ():  # type: ignore[attr-defined]  # ChatDelta is a TypedDict union
                _accumulate_call(calls, call)
            if choice["finish_reason"] is not None:
                finish_reason = choice["finish_reason"]
    if head is None:
        raise ValueError("a completion needs at least one chunk")
    message = _message("".join(content), "".join(reasoning), [calls[index] for index in sorted(calls)], reasoning_field)
    body: ChatCompletionBody = {
        "id": head["id"],
        "object": "chat.completion",
        "created": head["created"],
        "model": head["model"],
        "choices": [{"index": 0, "message": message, "logprobs": None, "finish_reason": finish_reason}],
        "service_tier": SERVICE_TIER,
    }
    if usage is not None:
        body["usage"] = usage
    return body


def _accumulate_call(calls: dict[int, MessageToolCall], delta: dict[str, object]) -> None:
    index = delta["index"]
    assert isinstance(index, int)
    function = delta.get("function") or {}
    assert isinstance(function, dict)
    call = calls.get(index)
    if call is None:
        calls[index] = {
            "id": str(delta.get("id", "")),
            "type": "function",
            "function": {"name": str(function.get("name", "")), "arguments": str(function.get("arguments", ""))},
        }
    else:
        call["function"]["arguments"] += str(function.get("arguments", ""))


def _message(content: str, reasoning: str, tool_calls: list[MessageToolCall], reasoning_field: str) -> AssistantMessage:
    message: AssistantMessage = {
        "role": "assistant",
        # null only for a pure tool-call turn, as OpenAI does; otherwise a string, maybe "".
        "content": None if not content and tool_calls else content,
        "refusal": None,
        "annotations": [],
    }
    if tool_calls:
        message["tool_calls"] = tool_calls
    if reasoning:
        message[reasoning_field] = reasoning  # type: ignore[literal-required]  # the field name is a setting
    return message
