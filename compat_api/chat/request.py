"""A validated ``POST /v1/chat/completions`` body, as plain values.

``request_schema.py`` builds it from the JSON body; ``paddler_params.py`` turns it into what
Paddler accepts. Only what changes the output is kept: parameters we accept and ignore
(temperature, seed, ...) are validated by the schema and then dropped here.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal, TypeAlias

from compat_api.reasoning_effort import ReasoningEffort
from compat_api.structured_output_format import StructuredOutputFormat
from compat_api.tool_call_rendering import AssistantToolCall

MessageRole: TypeAlias = Literal["system", "developer", "user", "assistant", "tool"]


@dataclass(frozen=True, slots=True)
class TextContent:
    text: str


@dataclass(frozen=True, slots=True)
class ImageContent:
    """An ``image_url`` part; ``url`` is always a ``data:`` URI (the schema refuses others)."""

    url: str


ContentPart: TypeAlias = TextContent | ImageContent


@dataclass(frozen=True, slots=True)
class ChatMessage:
    role: MessageRole
    # None only for an assistant turn that carries tool calls (or nothing at all).
    content: str | tuple[ContentPart, ...] | None
    tool_calls: tuple[AssistantToolCall, ...] = ()
    # Only on ``tool`` messages: which call this is the result of.
    tool_call_id: str | None = None


@dataclass(frozen=True, slots=True)
class FunctionDefinition:
    name: str
    description: str | None = None
    # Reduced to the four keys Paddler accepts, references inlined (compat_api/tool_parameters.py).
    parameters: dict[str, Any] | None = None


ToolChoiceMode: TypeAlias = Literal["none", "auto", "required"]


@dataclass(frozen=True, slots=True)
class ToolChoice:
    """``mode`` says whether a call may or must happen; ``names`` (when set) restricts which
    tools the model is shown: a named function, or the ``allowed_tools`` list."""

    mode: ToolChoiceMode
    names: tuple[str, ...] | None = None


@dataclass(frozen=True, slots=True)
class ChatCompletionRequest:
    model: str
    messages: tuple[ChatMessage, ...]
    stream: bool = False
    include_usage: bool = False
    # max_completion_tokens, else the legacy max_tokens, else None (the deployment default).
    max_tokens: int | None = None
    tools: tuple[FunctionDefinition, ...] = ()
    tool_choice: ToolChoice | None = None
    parallel_tool_calls: bool = True
    response_format: StructuredOutputFormat | None = None
    reasoning_effort: ReasoningEffort | None = None
    # ``chat_template_kwargs.enable_thinking`` (vLLM/Qwen convention), the one template
    # variable Paddler lets a request set.
    enable_thinking: bool | None = None
