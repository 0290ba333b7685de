"""The ``response`` object (wire-format reference 5): one builder for every snapshot of it.

``response.created`` / ``in_progress`` / ``completed`` / ``incomplete`` / ``failed``, the
non-streaming body and the stored copy are all built here, so they cannot drift. It echoes the
settings the request set (Paddler's own layer hard-codes ``tools: []``, ``temperature: 1``,
... whatever was asked) and OpenAI's defaults for the rest.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Literal, TypeAlias, assert_never

from compat_api.responses.request import (
    FunctionToolSpec,
    ResponsesRequest,
)
from compat_api.structured_output_format import (
    JsonObjectFormat,
    JsonSchemaFormat,
    PlainTextFormat,
    StructuredOutputFormat,
)
from paddler_protocol.token_usage import TokenUsage

ResponseStatus: TypeAlias = Literal["in_progress", "completed", "incomplete", "failed"]


@dataclass(frozen=True, slots=True)
class ResponseError:
    code: str
    message: str


@dataclass(frozen=True, slots=True)
class ResponseObjectBuilder:
    response_id: str
    created_at: int
    request: ResponsesRequest

    def build(
        self,
        *,
        status: ResponseStatus,
        output: Sequence[dict[str, Any]] = (),
        usage: TokenUsage | None = None,
        error: ResponseError | None = None,
        incomplete_reason: str | None = None,
        completed_at: int | None = None,
    ) -> dict[str, Any]:
        request = self.request
        return {
            "id": self.response_id,
            "object": "response",
            "created_at": self.created_at,
            "status": status,
            "background": False,
            "completed_at": completed_at,
            "error": None if error is None else {"code": error.code, "message": error.message},
            "incomplete_details": (None if incomplete_reason is None else {"reason": incomplete_reason}),
            "instructions": request.instructions,
            "max_output_tokens": request.max_output_tokens,
            "max_tool_calls": request.max_tool_calls,
            "model": request.model,
            "output": list(output),
            "parallel_tool_calls": request.parallel_tool_calls,
            "previous_response_id": request.previous_response_id,
            "prompt_cache_key": request.prompt_cache_key,
            "reasoning": {
                "effort": request.reasoning.effort if request.reasoning else None,
                "summary": request.reasoning.summary if request.reasoning else None,
            },
            "safety_identifier": request.safety_identifier,
            # Nothing here is tiered; "default" is what OpenAI reports for a plain request.
            "service_tier": "default",
            "store": request.store,
            "temperature": 1.0 if request.temperature is None else request.temperature,
            "text": {
                "format": text_format_json(request.text_format),
                "verbosity": request.verbosity or "medium",
            },
            "tool_choice": request.tool_choice.echo,
            "tools": [function_tool_json(tool) for tool in request.tools],
            "top_logprobs": request.top_logprobs or 0,
            "top_p": 1.0 if request.top_p is None else request.top_p,
            "truncation": request.truncation,
            "usage": None if usage is None else usage_json(usage),
            "user": request.user,
            "metadata": dict(request.metadata),
        }


def usage_json(usage: TokenUsage) -> dict[str, Any]:
    """Codex parses the details objects with non-optional counters: both are always present."""
    return {
        "input_tokens": usage.prompt_tokens,
        "input_tokens_details": {"cached_tokens": usage.cached_prompt_tokens},
        # Every generated kind is billed as output (protocol reference 2.2).
        "output_tokens": usage.completion_tokens,
        "output_tokens_details": {"reasoning_tokens": usage.reasoning_tokens},
        "total_tokens": usage.total_tokens,
    }


def text_format_json(text_format: StructuredOutputFormat) -> dict[str, Any]:
    match text_format:
        case PlainTextFormat():
            return {"type": "text"}
        case JsonObjectFormat():
            return {"type": "json_object"}
        case JsonSchemaFormat():
            document: dict[str, Any] = {
                "type": "json_schema",
                "name": text_format.name,
                "schema": text_format.schema,
                "strict": text_format.strict,
            }
            if text_format.description is not None:
                document["description"] = text_format.description
            return document
        case _:
            assert_never(text_format)


def function_tool_json(tool: FunctionToolSpec) -> dict[str, Any]:
    return {
        "type": "function",
        "name": tool.name,
        "description": tool.description,
        "parameters": tool.parameters,
        "strict": tool.strict,
    }
