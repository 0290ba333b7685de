"""A chat request as the ``ConversationParams`` Paddler accepts (protocol reference 1.2, 4.2).

Pure: no I/O. Paddler's messages carry exactly ``role`` and ``content``, so what OpenAI keeps in
other keys is rendered into the text, never dropped:

* an assistant turn's earlier tool calls become one line each after its text,
  ``<tool_call>{"name": ..., "arguments": ..., "id": ...}</tool_call>`` — the Hermes/Qwen
  shape, which many templates produce natively for tool calls, with the id added for pairing;
* a ``tool`` message keeps role ``tool``; its result is wrapped as
  ``<tool_result tool_call_id="..." name="...">`` ... ``</tool_result>`` so the model can pair
  each result with its call (the name is looked up from the call).

Consecutive messages of the same role are merged (texts joined by a blank line; tool results
never), because many chat templates (Gemma's, Mistral's) refuse turns that do not alternate.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from typing import assert_never

from django.conf import settings

from compat_api.chat.request import (
    AssistantToolCall,
    ChatCompletionRequest,
    ChatMessage,
    FunctionDefinition,
    ImageContent,
    JsonObjectFormat,
    JsonSchemaFormat,
    TextContent,
    TextFormat,
)
from compat_api.errors import PayloadTooLarge
from compat_api.tool_parameters import reduce_tool_parameters
from inference.conversation_params import (
    ContentPart,
    ConversationMessage,
    ConversationParams,
    FunctionTool,
    ImagePart,
    JsonSchemaGrammar,
    TextPart,
)

MESSAGE_SEPARATOR = "\n\n"
# json_object: "some JSON object", as a schema the agent can turn into a grammar.
ANY_JSON_OBJECT_SCHEMA = {"type": "object"}
THINKING_OFF_EFFORTS = frozenset({"none", "minimal"})


def build_paddler_params(request: ChatCompletionRequest) -> ConversationParams:
    tools = _tools_to_send(request)
    grammar = _grammar(request)
    params = ConversationParams(
        conversation_history=tuple(_merged(_converted(request.messages))),
        max_tokens=request.max_tokens if request.max_tokens is not None else settings.OARLOCK_DEFAULT_MAX_TOKENS,
        # Paddler refuses a grammar together with thinking (GrammarIncompatibleWithThinking).
        enable_thinking=grammar is None and _thinking(request),
        add_generation_prompt=True,
        grammar=grammar,
        tools=tools,
        parse_tool_calls=bool(tools),
    )
    _check_size(params)
    return params


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
    parameters = reduce_tool_parameters(tool.parameters) if tool.parameters is not None else None
    return FunctionTool(name=tool.name, description=tool.description or "", parameters=parameters)


def _grammar(request: ChatCompletionRequest) -> JsonSchemaGrammar | None:
    match request.response_format:
        case None | TextFormat():
            return None
        case JsonObjectFormat():
            return JsonSchemaGrammar(_compact_json(ANY_JSON_OBJECT_SCHEMA))
        case JsonSchemaFormat(schema=schema):
            return JsonSchemaGrammar(_compact_json(schema))
        case _:
            assert_never(request.response_format)


def _converted(messages: Iterable[ChatMessage]) -> Iterable[ConversationMessage]:
    tool_names: dict[str, str] = {}
    for message in messages:
        match message.role:
            case "system" | "developer":
                yield ConversationMessage("system", _content(message))
            case "user":
                yield ConversationMessage("user", _content(message))
            case "assistant":
                for call in message.tool_calls:
                    tool_names[call.id] = call.name
                yield ConversationMessage("assistant", _assistant_content(message))
            case "tool":
                yield ConversationMessage("tool", _tool_result(message, tool_names))
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
    return MESSAGE_SEPARATOR.join(piece for piece in (text, "\n".join(rendered)) if piece)


def render_tool_call(call: AssistantToolCall) -> str:
    try:
        arguments: object = json.loads(call.arguments) if call.arguments else {}
    except ValueError:
        # Replayed malformed JSON stays visible as the raw string the model produced.
        arguments = call.arguments
    body = {"name": call.name, "arguments": arguments, "id": call.id}
    return f"<tool_call>{json.dumps(body, ensure_ascii=False)}</tool_call>"


def _tool_result(message: ChatMessage, tool_names: dict[str, str]) -> str:
    call_id = message.tool_call_id or ""
    name = tool_names.get(call_id)
    # JSON string quoting keeps an id or name with quotes in it from breaking the tag.
    attributes = f"tool_call_id={json.dumps(call_id)}" + (f" name={json.dumps(name)}" if name else "")
    return f"<tool_result {attributes}>\n{_text_of(_content(message))}\n</tool_result>"


def _text_of(content: str | tuple[ContentPart, ...]) -> str:
    if isinstance(content, str):
        return content
    return "".join(part.text for part in content if isinstance(part, TextPart))


def _merged(messages: Iterable[ConversationMessage]) -> Iterable[ConversationMessage]:
    pending: ConversationMessage | None = None
    for message in messages:
        if pending is not None and pending.role == message.role and message.role != "tool":
            pending = ConversationMessage(message.role, _joined(pending.content, message.content))
            continue
        if pending is not None:
            yield pending
        pending = message
    if pending is not None:
        yield pending


def _joined(
    first: str | tuple[ContentPart, ...], second: str | tuple[ContentPart, ...]
) -> str | tuple[ContentPart, ...]:
    if isinstance(first, str) and isinstance(second, str):
        return MESSAGE_SEPARATOR.join(text for text in (first, second) if text)
    left, right = _as_parts(first), _as_parts(second)
    if left and right and isinstance(left[-1], TextPart) and isinstance(right[0], TextPart):
        bridge = TextPart(MESSAGE_SEPARATOR.join(t for t in (left[-1].text, right[0].text) if t))
        return (*left[:-1], bridge, *right[1:])
    return (*left, *right)


def _as_parts(content: str | tuple[ContentPart, ...]) -> tuple[ContentPart, ...]:
    if isinstance(content, str):
        return (TextPart(content),) if content else ()
    return content


def _check_size(params: ConversationParams) -> None:
    size = len(_compact_json(params.to_json()).encode())
    limit: int = settings.OARLOCK_UPSTREAM_MAX_BODY_BYTES
    if size > limit:
        raise PayloadTooLarge(
            f"The conversation is too large for the inference upstream: it would be sent as "
            f"{size} bytes, and the limit is {limit} bytes. Send smaller images or fewer messages."
        )


def _compact_json(value: object) -> str:
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False)
