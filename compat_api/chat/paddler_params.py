"""A chat request as the ``ConversationParams`` Paddler accepts (protocol reference 1.2, 4.2).

Pure: no I/O. Paddler's messages carry exactly ``role`` and ``content``, so what OpenAI keeps in
other keys is rendered into the text, never dropped (``compat_api/tool_call_rendering.py``):

* an assistant turn's earlier tool calls become one ``<tool_call>`` line each after its text;
* a ``tool`` message keeps role ``tool``; its result is wrapped in ``<tool_result>`` naming the
  call it answers (the name is looked up from the call).

Consecutive messages of the same role are merged (``compat_api/conversation_merging.py``).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import assert_never

from django.conf import settings

from compat_api.chat.request import (
    ChatCompletionRequest,
    ChatMessage,
    FunctionDefinition,
    ImageContent,
    TextContent,
)
from compat_api.conversation_merging import (
    CALL_SEPARATOR,
    MERGE_SEPARATOR,
    Turn,
    merge_consecutive_turns,
)
from compat_api.reasoning_effort import THINKING_OFF_EFFORTS
from compat_api.structured_output_grammar import structured_output_grammar
from compat_api.tool_call_rendering import render_tool_call, render_tool_result
from compat_api.upstream_body_size import check_upstream_body_size
from paddler_protocol.conversation_params import (
    ContentPart,
    ConversationMessage,
    ConversationParams,
    FunctionTool,
    ImagePart,
    TextPart,
)


def build_paddler_params(request: ChatCompletionRequest) -> ConversationParams:
    tools = _tools_to_send(request)
    grammar = structured_output_grammar(request.response_format)
    params = ConversationParams(
        conversation_history=merge_consecutive_turns(_turns(request.messages), skip_empty_texts=True),
        max_tokens=request.max_tokens if request.max_tokens is not None else settings.OARLOCK_DEFAULT_MAX_TOKENS,
        # Paddler refuses a grammar together with thinking (GrammarIncompatibleWithThinking).
        enable_thinking=grammar is None and _thinking(request),
        add_generation_prompt=True,
        grammar=grammar,
        tools=tools,
        parse_tool_calls=bool(tools),
    )
    check_upstream_body_size(params, refusal=_too_large)
    return params


def _too_large(*, size: int, limit: int) -> str:
    return (
        f"The conversation is too large for the inference upstream: it would be sent as "
        f"{size} bytes, and the limit is {limit} bytes. Send smaller images or fewer messages."
    )


def _thinking(request: ChatCompletionRequest) -> bool:
    if request.reasoning_effort in THINKING_OFF_EFFORTS:
        return False
    if request.enable_thinking is not None:
        return request.enable_thinking
    return True


def _tools_to_send(request: ChatCompletionRequest) -> tuple[FunctionTool, ...]:
    choice = request.tool_choice
    if choice is not None and choice.mode == "none":
        return ()
    # A named function or allowed_tools: the model is shown only those. Paddler cannot force a
    # call, so "required" is as strong as the model's willingness (documented).
    allowed = set(choice.names) if choice is not None and choice.names is not None else None
    return tuple(_function_tool(tool) for tool in request.tools if allowed is None or tool.name in allowed)


def _function_tool(tool: FunctionDefinition) -> FunctionTool:
    # Already reduced to Paddler's four keys by the request's parse (forwarded_schemas.py).
    return FunctionTool(name=tool.name, description=tool.description or "", parameters=tool.parameters)


def _turns(messages: Iterable[ChatMessage]) -> Iterable[Turn]:
    tool_names: dict[str, str] = {}
    for message in messages:
        match message.role:
            case "system" | "developer":
                yield Turn(ConversationMessage("system", _content(message)))
            case "user":
                yield Turn(ConversationMessage("user", _content(message)))
            case "assistant":
                for call in message.tool_calls:
                    tool_names[call.id] = call.name
                yield Turn(ConversationMessage("assistant", _assistant_content(message)))
            case "tool":
                yield Turn(ConversationMessage("tool", _tool_result(message, tool_names)))
            case _:
                assert_never(message.role)


def _content(message: ChatMessage) -> str | tuple[ContentPart, ...]:
    if message.content is None:
        return ""
    if isinstance(message.content, str):
        return message.content
    parts: list[ContentPart] = []
    for part in message.content:
        match part:
            case TextContent(text):
                parts.append(TextPart(text))
            case ImageContent(url):
                parts.append(ImagePart(url))
            case _:
                assert_never(part)
    if all(isinstance(part, TextPart) for part in parts):
        # Text-only part arrays are plain text to every template.
        return "".join(part.text for part in parts if isinstance(part, TextPart))
    return tuple(parts)


def _assistant_content(message: ChatMessage) -> str:
    text = _text_of(_content(message))
    rendered = [render_tool_call(call) for call in message.tool_calls]
    return MERGE_SEPARATOR.join(piece for piece in (text, CALL_SEPARATOR.join(rendered)) if piece)


def _tool_result(message: ChatMessage, tool_names: dict[str, str]) -> str:
    call_id = message.tool_call_id or ""
    return render_tool_result(call_id=call_id, name=tool_names.get(call_id), text=_text_of(_content(message)))


def _text_of(content: str | tuple[ContentPart, ...]) -> str:
    if isinstance(content, str):
        return content
    return "".join(part.text for part in content if isinstance(part, TextPart))
