"""A validated ``POST /v1/responses`` body, as plain values.

``request_schema.py`` builds it from the JSON body; ``paddler_params.py`` turns it into what
Paddler accepts and ``response_object.py`` echoes the settings back. Unlike chat, parameters we
accept but cannot apply (temperature, top_p, metadata, ...) are kept: the response object
echoes what the request set, as OpenAI's does.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal, TypeAlias

from compat_api.reasoning_effort import ReasoningEffort
from compat_api.responses.input_item import InputItem
from compat_api.structured_output_format import PlainTextFormat, StructuredOutputFormat


@dataclass(frozen=True, slots=True)
class FunctionToolSpec:
    name: str
    description: str | None = None
    # The JSON Schema as the client sent it (echoed back in the response object).
    parameters: dict[str, Any] | None = None
    strict: bool | None = None
    # ``parameters`` reduced to the four keys Paddler accepts, set by the request's parse.
    paddler_parameters: dict[str, Any] | None = field(default=None, compare=False)


ToolChoiceMode: TypeAlias = Literal["none", "auto", "required"]


@dataclass(frozen=True, slots=True)
class ToolChoice:
    """``mode`` says whether a call may or must happen; ``names`` (when set) restricts which
    tools the model is shown: a named function, or the ``allowed_tools`` list.

    ``echo`` is the value as the client sent it, for the response object."""

    mode: ToolChoiceMode
    names: tuple[str, ...] | None = None
    echo: str | dict[str, Any] = "auto"


@dataclass(frozen=True, slots=True)
class ReasoningOptions:
    effort: ReasoningEffort | None = None
    summary: str | None = None


@dataclass(frozen=True, slots=True)
class ResponsesRequest:
    model: str
    input: tuple[InputItem, ...] = ()
    instructions: str | None = None
    stream: bool = False
    store: bool = True
    previous_response_id: str | None = None
    max_output_tokens: int | None = None
    reasoning: ReasoningOptions | None = None
    text_format: StructuredOutputFormat = field(default_factory=PlainTextFormat)
    verbosity: str | None = None
    # Function tools only: other tool types are skipped by the schema.
    tools: tuple[FunctionToolSpec, ...] = ()
    tool_choice: ToolChoice = field(default_factory=lambda: ToolChoice("auto"))
    # --- accepted and echoed, not applied (Paddler's sampling is cluster-wide) ---
    temperature: float | None = None
    top_p: float | None = None
    top_logprobs: int | None = None
    parallel_tool_calls: bool = True
    max_tool_calls: int | None = None
    metadata: dict[str, str] = field(default_factory=dict)
    truncation: Literal["auto", "disabled"] = "disabled"
    user: str | None = None
    safety_identifier: str | None = None
    prompt_cache_key: str | None = None
    include: tuple[str, ...] = ()
