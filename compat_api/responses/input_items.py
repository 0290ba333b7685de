"""Responses input items -> the conversation history Paddler renders with the model's template.

Paddler's messages are only ``{role, content}`` (protocol reference 5.2), so everything a turn
carries beyond text must be written into its text:

* ``developer`` becomes ``system``; ``instructions`` come first, as a system message.
* Replayed assistant ``output_text`` (and ``refusal``) parts are kept as text — Paddler's own
  layer drops them, which erases every earlier answer of a multi-turn client.
* A ``function_call`` becomes an assistant turn holding the call, and its
  ``function_call_output`` a ``tool`` turn wrapping the result, both rendered by
  ``compat_api/tool_call_rendering.py`` as chat renders them, so the model can pair them — and
  sees the same conversation whichever endpoint the client uses.
* ``reasoning`` items are dropped: the model thinks afresh each turn, as its template expects.
* Consecutive turns of one role are merged by ``compat_api/conversation_merging.py``, as chat
  merges them; consecutive calls with a line break, as chat writes one message's calls.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from typing import assert_never

from compat_api.conversation_merging import Content, Turn, merge_consecutive_turns
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
from compat_api.tool_call_rendering import AssistantToolCall, render_tool_call, render_tool_result
from paddler_protocol.conversation_params import ContentPart, ConversationMessage, ImagePart, TextPart

# Text-only part arrays are plain text to every template (joined as chat joins them).
PART_SEPARATOR = ""


def conversation_messages(
    items: Iterable[InputItem], *, instructions: str | None = None
) -> tuple[ConversationMessage, ...]:
    return merge_consecutive_turns(_turns(items, instructions), skip_empty_texts=False)


def _turns(items: Iterable[InputItem], instructions: str | None) -> Iterable[Turn]:
    if instructions:
        yield Turn(ConversationMessage("system", instructions))
    tool_names: dict[str, str] = {}
    for item in items:
        turn = _turn(item, tool_names)
        if turn is not None:
            yield turn


def _turn(item: InputItem, tool_names: dict[str, str]) -> Turn | None:
    match item:
        case MessageItem(role=role, content=content):
            return Turn(ConversationMessage("system" if role == "developer" else role, _content(content)))
        case FunctionCallItem(call_id=call_id, name=name, arguments=arguments):
            tool_names[call_id] = name
            return _call_turn(AssistantToolCall(call_id, name, arguments))
        case CustomToolCallItem(call_id=call_id, name=name, input=text):
            tool_names[call_id] = name
            # A freeform input is a string argument: JSON-quoted, it stays one visible value.
            return _call_turn(AssistantToolCall(call_id, name, json.dumps(text)))
        case FunctionCallOutputItem(call_id=call_id, output=output):
            return Turn(ConversationMessage("tool", _tool_result(call_id, output, tool_names)))
        case CustomToolCallOutputItem(call_id=call_id, output=output):
            return Turn(ConversationMessage("tool", _tool_result(call_id, output, tool_names)))
        case ReasoningItem() | OpaqueItem():
            return None
        case _:
            assert_never(item)


def _call_turn(call: AssistantToolCall) -> Turn:
    return Turn(ConversationMessage("assistant", render_tool_call(call)), is_call=True)


def _tool_result(call_id: str, output: str | tuple[InputText | InputImage, ...], tool_names: dict[str, str]) -> Content:
    """The same wrapper chat gives a ``tool`` message; images follow the wrapped text."""
    images: tuple[ImagePart, ...]
    if isinstance(output, str):
        text, images = output, ()
    else:
        text = PART_SEPARATOR.join(part.text for part in output if isinstance(part, InputText))
        images = tuple(ImagePart(part.image_url) for part in output if isinstance(part, InputImage))
    wrapped = render_tool_result(call_id=call_id, name=tool_names.get(call_id), text=text)
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
