"""``ResponsesRequest`` (+ the conversation items) -> the ``ConversationParams`` Paddler accepts.

Pure: no I/O. What Paddler's own layer gets wrong and we do not copy (protocol reference 5.1, 8):

* ``text.format`` ``json_schema`` / ``json_object`` become a grammar *and* switch thinking off,
  since Paddler refuses a grammar together with thinking (``GrammarIncompatibleWithThinking``);
  the client need not know that rule.
* ``reasoning.effort`` ``minimal`` switches thinking off too, not only ``none``.
* ``tool_choice`` is applied: ``none`` shows the model no tools, a named function shows only it.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from django.conf import settings

from compat_api.reasoning_effort import THINKING_OFF_EFFORTS
from compat_api.responses.input_item import InputItem
from compat_api.responses.input_items import conversation_messages
from compat_api.responses.request import (
    FunctionToolSpec,
    ResponsesRequest,
)
from compat_api.structured_output_grammar import structured_output_grammar
from compat_api.tool_parameters import reduce_tool_parameters
from compat_api.upstream_body_size import check_upstream_body_size
from paddler_protocol.conversation_params import ConversationParams, FunctionTool


def build_paddler_params(request: ResponsesRequest, items: Iterable[InputItem]) -> ConversationParams:
    """``items`` is the whole conversation: items inherited through ``previous_response_id``
    followed by the request's own ``input``."""
    grammar = structured_output_grammar(request.text_format)
    tools = _tools(request)
    params = ConversationParams(
        conversation_history=conversation_messages(items, instructions=request.instructions),
        max_tokens=request.max_output_tokens or settings.OARLOCK_DEFAULT_MAX_TOKENS,
        enable_thinking=grammar is None and not _effort_disables_thinking(request),
        grammar=grammar,
        tools=tools,
        parse_tool_calls=bool(tools),
    )
    check_upstream_body_size(params, refusal=_too_large)
    return params


def _too_large(*, size: int, limit: int) -> str:
    return (
        f"The request is too large for the inference upstream: {size} bytes once translated, "
        f"over the {limit}-byte limit. Send fewer or smaller images, or a shorter input."
    )


def _effort_disables_thinking(request: ResponsesRequest) -> bool:
    return request.reasoning is not None and request.reasoning.effort in THINKING_OFF_EFFORTS


def _tools(request: ResponsesRequest) -> tuple[FunctionTool, ...]:
    choice = request.tool_choice
    if choice.mode == "none":
        return ()
    shown = request.tools
    if choice.names is not None:
        shown = tuple(tool for tool in shown if tool.name in choice.names)
    return tuple(_function_tool(tool) for tool in shown)


def _function_tool(tool: FunctionToolSpec) -> FunctionTool:
    return FunctionTool(
        name=tool.name,
        description=tool.description or "",
        # Reduced exactly as chat reduces them, by the request's parse (forwarded_schemas.py).
        parameters=_paddler_parameters(tool),
    )


def _paddler_parameters(tool: FunctionToolSpec) -> dict[str, Any] | None:
    if tool.paddler_parameters is not None or tool.parameters is None:
        return tool.paddler_parameters
    # A spec built without the request's parse (stored conversations, tests).
    return reduce_tool_parameters(tool.parameters)
