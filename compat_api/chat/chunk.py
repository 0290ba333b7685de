"""Builders for the chat wire objects (wire-format reference 2, 3): each envelope written once."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal, NotRequired, TypeAlias, TypedDict

from paddler_protocol.token_usage import TokenUsage

FinishReason: TypeAlias = Literal["stop", "length", "tool_calls"]

# OpenAI reports the tier that served the request; there is only one here.
SERVICE_TIER = "default"


class PromptTokensDetails(TypedDict):
    cached_tokens: int
    audio_tokens: int


class CompletionTokensDetails(TypedDict):
    reasoning_tokens: int


class ChatUsage(TypedDict):
    prompt_tokens: int
    completion_tokens: int
    total_tokens: int
    prompt_tokens_details: PromptTokensDetails
    completion_tokens_details: CompletionTokensDetails


class FunctionDelta(TypedDict):
    name: NotRequired[str]
    arguments: str


class ToolCallDelta(TypedDict):
    index: int
    id: NotRequired[str]
    type: NotRequired[Literal["function"]]
    function: FunctionDelta


# A delta holds role / content / tool_calls, or the reasoning text under the field name the
# deployment chose (settings.OARLOCK_CHAT_REASONING_FIELD), so its keys are not fixed.
ChatDelta: TypeAlias = dict[str, object]


class ChunkChoice(TypedDict):
    index: int
    delta: ChatDelta
    logprobs: None
    finish_reason: FinishReason | None


class ChatChunk(TypedDict):
    id: str
    object: Literal["chat.completion.chunk"]
    created: int
    model: str
    service_tier: str
    choices: list[ChunkChoice]
    # Present (null, or the usage object on the usage chunk) only with include_usage.
    usage: NotRequired[ChatUsage | None]


@dataclass(frozen=True, slots=True)
class ChunkHead:
    """What every chunk of one response repeats, identical on each."""

    id: str
    created: int
    model: str
    include_usage: bool = False


def chat_chunk(head: ChunkHead, delta: ChatDelta, finish_reason: FinishReason | None = None) -> ChatChunk:
    chunk = _envelope(head, [{"index": 0, "delta": delta, "logprobs": None, "finish_reason": finish_reason}])
    if head.include_usage:
        chunk["usage"] = None
    return chunk


def usage_chunk(head: ChunkHead, usage: TokenUsage) -> ChatChunk:
    chunk = _envelope(head, [])
    chunk["usage"] = chat_usage(usage)
    return chunk


def _envelope(head: ChunkHead, choices: list[ChunkChoice]) -> ChatChunk:
    return {
        "id": head.id,
        "object": "chat.completion.chunk",
        "created": head.created,
        "model": head.model,
        "service_tier": SERVICE_TIER,
        "choices": choices,
    }


def tool_call_delta(index: int, call_id: str, name: str, arguments: str) -> ToolCallDelta:
    """The first (here: only) delta of a call: everything a client keys on, complete."""
    return {
        "index": index,
        "id": call_id,
        "type": "function",
        "function": {"name": name, "arguments": arguments},
    }


def chat_usage(usage: TokenUsage) -> ChatUsage:
    """Protocol reference 2.2: completion counts every generated kind, tool calls included."""
    return {
        "prompt_tokens": usage.prompt_tokens,
        "completion_tokens": usage.completion_tokens,
        "total_tokens": usage.total_tokens,
        "prompt_tokens_details": {
            "cached_tokens": usage.cached_prompt_tokens,
            "audio_tokens": usage.input_audio_tokens,
        },
        "completion_tokens_details": {"reasoning_tokens": usage.reasoning_tokens},
    }
