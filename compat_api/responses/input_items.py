"""Responses input items -> the conversation history Paddler renders with the model's template.

Paddler's messages are only ``{role, content}`` (protocol reference 5.2), so everything a turn
carries beyond text must be written into its text:

* ``developer`` becomes ``system``; ``instructions`` come first, as a system message.
* Replayed assistant ``output_text`` (and ``refusal``) parts are kept as text — Paddler's own
  layer drops them, which erases every earlier answer of a multi-turn client.
* A ``function_call`` becomes an assistant turn holding the call exactly as chat renders one
  (``<tool_call>{"name": ..., "arguments": ..., "id": ...}</tool_call>``, the Hermes/Qwen
  shape), and its ``function_call_output`` a ``tool`` turn
  ``<tool_result tool_call_id="..." name="...">`` ... ``</tool_result>``, so the model can pair
  them — and sees the same conversation whichever endpoint the client uses.
* ``reasoning`` items are dropped: the model thinks afresh each turn, as its template expects.
* Consecutive messages of one role are merged with a blank line (templates such as Gemma's
  insist on alternating roles), consecutive calls with a line break as chat does; tool results
  are never merged, each answers its own call.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass
from typing import assert_never

from compat_api.chat.paddler_params import render_tool_call
from compat_api.chat.request import AssistantToolCall
from compat_api.responses.input_item import (
    CustomToolCallItem,
    CustomToolCallOutputItem,
    FunctionCallItem,
    FunctionCallOutputItem,
    InputImage,
    InputItem,
    InputText,
    MessageItem,
    MessagePart,
    OpaqueItem,
    OutputText,
    ReasoningItem,
    Refusal,
)
from inference.conversation_params import ContentPart, ConversationMessage, ImagePart, TextPart

MERGE_SEPARATOR = "\n\n"
CALL_SEPARATOR = "\n"
# Text-only part arrays are plain text to every template (joined as chat joins them).
PART_SEPARATOR = ""

Content = str | tuple[ContentPart, ...]


@dataclass(frozen=True, slots=True)
class _Turn:
    message: ConversationMessage
    is_call: bool = False


def conversation_messages(
    items: Iterable[InputItem], *, instructions: str | None = None
) -> tuple[ConversationMessage, ...]:
    turns: list[_Turn] = []
    if instructions:
        turns.append(_Turn(ConversationMessage("system", instructions)))
    tool_names: dict[str, str] = {}
    for item in items:
        turn = _turn(item, tool_names)
        if turn is None:
            continue
        previous = turns[-1] if turns else None
        role = turn.message.role
        if previous is None or previous.message.role != role or role == "tool":
            turns.append(turn)
            continue
        separator = CALL_SEPARATOR if previous.is_call and turn.is_call else MERGE_SEPARATOR
        merged = _merge(previous.message.content, turn.message.content, separator)
        turns[-1] = _Turn(ConversationMessage(role, merged), turn.is_call)
    return tuple(turn.message for turn in turns)


def _turn(item: InputItem, tool_names: dict[str, str]) -> _Turn | None:
    match item:
        case MessageItem(role=role, content=content):
            return _Turn(
                ConversationMessage("system" if role == "developer" else role, _content(content))
            )
        case FunctionCallItem(call_id=call_id, name=name, arguments=arguments):
            tool_names[call_id] = name
            return _call_turn(AssistantToolCall(call_id, name, arguments))
        case CustomToolCallItem(call_id=call_id, name=name, input=text):
            tool_names[call_id] = name
            # A freeform input is a string argument: JSON-quoted, it stays one visible value.
            return _call_turn(AssistantToolCall(call_id, name, json.dumps(text)))
        case FunctionCallOutputItem(call_id=call_id, output=output):
            return _Turn(ConversationMessage("tool", _tool_result(call_id, output, tool_names)))
        case CustomToolCallOutputItem(call_id=call_id, output=output):
            return _Turn(ConversationMessage("tool", _tool_result(call_id, output, tool_names)))
        case ReasoningItem() | OpaqueItem():
            return None
        case _:
            assert_never(item)


def _call_turn(call: AssistantToolCall) -> _Turn:
    return _Turn(ConversationMessage("assistant", render_tool_call(call)), is_call=True)


def _tool_result(
    call_id: str, output: str | tuple[InputText | InputImage, ...], tool_names: dict[str, str]
) -> Content:
    """The same wrapper chat gives a ``tool`` message, naming the call it answers."""
    name = tool_names.get(call_id)
    # JSON string quoting keeps an id or name with quotes in it from breaking the tag.
    attributes = f"tool_call_id={json.dumps(call_id)}" + (
        f" name={json.dumps(name)}" if name else ""
    )
    if isinstance(output, str):
        text, images = output, ()
    else:
        text = PART_SEPARATOR.join(part.text for part in output if isinstance(part, InputText))
        images = tuple(ImagePart(part.image_url) for part in output if isinstance(part, InputImage))
    wrapped = f"<tool_result {attributes}>\n{text}\n</tool_result>"
    return (TextPart(wrapped), *images) if images else wrapped


def _content(content: str | tuple[MessagePart, ...]) -> Content:
    if isinstance(content, str):
        return content
    parts = tuple(_part(part) for part in content)
    if all(isinstance(part, TextPart) for part in parts):
        return PART_SEPARATOR.join(part.text for part in parts if isinstance(part, TextPart))
    return _joined_texts(parts, PART_SEPARATOR)


def _part(part: MessagePart) -> ContentPart:
    match part:
        case InputText(text) | OutputText(text):
            return TextPart(text)
        case Refusal(refusal):
            return TextPart(refusal)
        case InputImage(image_url=url):
            return ImagePart(url)
        case _:
            assert_never(part)


def _merge(first: Content, second: Content, separator: str) -> Content:
    if isinstance(first, str) and isinstance(second, str):
        return first + separator + second
    return _joined_texts((*_as_parts(first), *_as_parts(second)), separator)


def _as_parts(content: Content) -> tuple[ContentPart, ...]:
    return (TextPart(content),) if isinstance(content, str) else content


def _joined_texts(parts: tuple[ContentPart, ...], separator: str) -> tuple[ContentPart, ...]:
    """Adjacent text parts become one, so a template sees text, image, text — never text, text."""
    joined: list[ContentPart] = []
    for part in parts:
        last = joined[-1] if joined else None
        if isinstance(part, TextPart) and isinstance(last, TextPart):
            joined[-1] = TextPart(last.text + separator + part.text)
        else:
            joined.append(part)
    return tuple(joined)
