"""The items of a Responses ``input`` (wire-format reference 4.2), as plain values.

The same values describe the items a client sends, the items we store for a response, and the
output items of an earlier response replayed through ``previous_response_id``: one parser
(``request_schema.py``) reads them all, ``input_items.py`` turns them into a conversation, and
``item_json`` writes them back in OpenAI's shape for storage and ``input_items`` listings.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace
from typing import Any, Literal, TypeAlias, assert_never

MessageRole: TypeAlias = Literal["user", "assistant", "system", "developer"]


@dataclass(frozen=True, slots=True)
class InputText:
    text: str


@dataclass(frozen=True, slots=True)
class InputImage:
    """``image_url`` is always a ``data:`` URI: the schema refuses anything Paddler cannot read."""

    image_url: str
    detail: str | None = None


@dataclass(frozen=True, slots=True)
class OutputText:
    """Assistant text replayed from an earlier response."""

    text: str


@dataclass(frozen=True, slots=True)
class Refusal:
    refusal: str


MessagePart: TypeAlias = InputText | InputImage | OutputText | Refusal


@dataclass(frozen=True, slots=True)
class MessageItem:
    role: MessageRole
    content: str | tuple[MessagePart, ...]
    id: str | None = None
    # ``commentary`` / ``final_answer``: newer Codex models send it back; we keep it for storage.
    phase: str | None = None


@dataclass(frozen=True, slots=True)
class FunctionCallItem:
    call_id: str
    name: str
    # The JSON string the model produced (``parsed_arguments``, sent by some SDK loops, is ignored).
    arguments: str
    id: str | None = None


@dataclass(frozen=True, slots=True)
class FunctionCallOutputItem:
    call_id: str
    output: str | tuple[InputText | InputImage, ...]
    id: str | None = None


@dataclass(frozen=True, slots=True)
class ReasoningItem:
    """Dropped from the prompt (the model re-thinks each turn) but kept in storage."""

    summary: tuple[str, ...] = ()
    content: tuple[str, ...] = ()
    encrypted_content: str | None = None
    id: str | None = None


@dataclass(frozen=True, slots=True)
class CustomToolCallItem:
    """Codex's freeform tool calls (``apply_patch``): shown to the model like a function call."""

    call_id: str
    name: str
    input: str
    id: str | None = None


@dataclass(frozen=True, slots=True)
class CustomToolCallOutputItem:
    call_id: str
    output: str
    id: str | None = None


@dataclass(frozen=True, slots=True)
class OpaqueItem:
    """An item we accept but cannot show the model (``web_search_call``, ``local_shell_call``,
    ``mcp_*``, ...): Codex replays them, so refusing would break it. Kept verbatim for storage."""

    type: str
    document: Mapping[str, Any]
    id: str | None = None


InputItem: TypeAlias = (
    MessageItem
    | FunctionCallItem
    | FunctionCallOutputItem
    | ReasoningItem
    | CustomToolCallItem
    | CustomToolCallOutputItem
    | OpaqueItem
)

# The id prefix OpenAI uses for each stored input item kind.
_ID_PREFIXES: dict[type, str] = {
    MessageItem: "msg",
    FunctionCallItem: "fc",
    FunctionCallOutputItem: "fco",
    ReasoningItem: "rs",
    CustomToolCallItem: "ctc",
    CustomToolCallOutputItem: "ctco",
    OpaqueItem: "item",
}


def id_prefix(item: InputItem) -> str:
    return _ID_PREFIXES[type(item)]


def with_id(item: InputItem, item_id: str) -> InputItem:
    return replace(item, id=item_id)


def item_json(item: InputItem) -> dict[str, Any]:
    """The item in OpenAI's stored shape (what ``GET .../input_items`` lists)."""
    match item:
        case MessageItem():
            document: dict[str, Any] = {
                "id": item.id,
                "type": "message",
                "role": item.role,
                "status": "completed",
                "content": [_part_json(part) for part in _message_parts(item)],
            }
            if item.phase is not None:
                document["phase"] = item.phase
            return document
        case FunctionCallItem():
            return {
                "id": item.id,
                "type": "function_call",
                "status": "completed",
                "call_id": item.call_id,
                "name": item.name,
                "arguments": item.arguments,
            }
        case FunctionCallOutputItem():
            output: Any = item.output if isinstance(item.output, str) else [_part_json(part) for part in item.output]
            return {
                "id": item.id,
                "type": "function_call_output",
                "status": "completed",
                "call_id": item.call_id,
                "output": output,
            }
        case ReasoningItem():
            document = {
                "id": item.id,
                "type": "reasoning",
                "summary": [{"type": "summary_text", "text": text} for text in item.summary],
            }
            if item.content:
                document["content"] = [{"type": "reasoning_text", "text": text} for text in item.content]
            if item.encrypted_content is not None:
                document["encrypted_content"] = item.encrypted_content
            return document
        case CustomToolCallItem():
            return {
                "id": item.id,
                "type": "custom_tool_call",
                "status": "completed",
                "call_id": item.call_id,
                "name": item.name,
                "input": item.input,
            }
        case CustomToolCallOutputItem():
            return {
                "id": item.id,
                "type": "custom_tool_call_output",
                "status": "completed",
                "call_id": item.call_id,
                "output": item.output,
            }
        case OpaqueItem():
            return {**item.document, "id": item.id, "type": item.type}
        case _:
            assert_never(item)


def _message_parts(item: MessageItem) -> tuple[MessagePart, ...]:
    """String content in its explicit form: assistant text is output, everything else input."""
    if not isinstance(item.content, str):
        return item.content
    if item.role == "assistant":
        return (OutputText(item.content),)
    return (InputText(item.content),)


def _part_json(part: MessagePart) -> dict[str, Any]:
    match part:
        case InputText(text):
            return {"type": "input_text", "text": text}
        case InputImage(image_url, detail):
            return {"type": "input_image", "image_url": image_url, "detail": detail or "auto"}
        case OutputText(text):
            return {"type": "output_text", "text": text, "annotations": [], "logprobs": []}
        case Refusal(refusal):
            return {"type": "refusal", "refusal": refusal}
        case _:
            assert_never(part)
