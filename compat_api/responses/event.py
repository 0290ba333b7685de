"""Responses streaming events (wire-format reference 6.2): one builder per event type.

Builders take the ``sequence_number`` they are given; only ``ResponsesStreamState`` numbers
events, so the sequence stays gapless. The SSE ``event:`` line always equals the JSON ``type``.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Literal, TypeAlias

from compat_api.error_envelope import ErrorDescription
from compat_api.sse import encode_sse

EventType: TypeAlias = Literal[
    "response.created",
    "response.in_progress",
    "response.completed",
    "response.incomplete",
    "response.failed",
    "response.output_item.added",
    "response.output_item.done",
    "response.content_part.added",
    "response.content_part.done",
    "response.output_text.delta",
    "response.output_text.done",
    "response.reasoning_text.delta",
    "response.reasoning_text.done",
    "response.function_call_arguments.delta",
    "response.function_call_arguments.done",
    "error",
]

TERMINAL_EVENT_TYPES: frozenset[str] = frozenset({"response.completed", "response.incomplete", "response.failed"})


@dataclass(frozen=True, slots=True)
class ResponsesEvent:
    type: EventType
    sequence_number: int
    fields: Mapping[str, Any]

    @property
    def is_terminal(self) -> bool:
        return self.type in TERMINAL_EVENT_TYPES

    def to_json(self) -> dict[str, Any]:
        return {"type": self.type, "sequence_number": self.sequence_number, **self.fields}

    def to_sse(self) -> bytes:
        return encode_sse(self.to_json(), event=self.type)


@dataclass(slots=True)
class EventSequence:
    """The stream's ``sequence_number`` counter: starts at 0, +1 per event, never a gap."""

    _next: int = 0

    def take(self) -> int:
        number = self._next
        self._next += 1
        return number


# --- lifecycle ------------------------------------------------------------------------------


def response_created(seq: int, response: dict[str, Any]) -> ResponsesEvent:
    return ResponsesEvent("response.created", seq, {"response": response})


def response_in_progress(seq: int, response: dict[str, Any]) -> ResponsesEvent:
    return ResponsesEvent("response.in_progress", seq, {"response": response})


def response_completed(seq: int, response: dict[str, Any]) -> ResponsesEvent:
    return ResponsesEvent("response.completed", seq, {"response": response})


def response_incomplete(seq: int, response: dict[str, Any]) -> ResponsesEvent:
    return ResponsesEvent("response.incomplete", seq, {"response": response})


def response_failed(seq: int, response: dict[str, Any]) -> ResponsesEvent:
    return ResponsesEvent("response.failed", seq, {"response": response})


def error_event(seq: int, error: ErrorDescription) -> ResponsesEvent:
    """Flat fields for the spec, a nested ``error`` for the live API's shape (reference 6.5):
    the Python SDK raises on the nested one, JS on the ``event: error`` line, and schema
    validators accept the flat one."""
    return ResponsesEvent(
        "error",
        seq,
        {
            "code": error.code,
            "message": error.message,
            "param": error.param,
            "error": {
                "type": error.type,
                "code": error.code,
                "message": error.message,
                "param": error.param,
            },
        },
    )


# --- items ----------------------------------------------------------------------------------


def output_item_added(seq: int, output_index: int, item: dict[str, Any]) -> ResponsesEvent:
    return ResponsesEvent("response.output_item.added", seq, {"output_index": output_index, "item": item})


def output_item_done(seq: int, output_index: int, item: dict[str, Any]) -> ResponsesEvent:
    return ResponsesEvent("response.output_item.done", seq, {"output_index": output_index, "item": item})


def content_part_added(seq: int, item_id: str, output_index: int, part: dict[str, Any]) -> ResponsesEvent:
    fields = _part_fields(item_id, output_index, part)
    return ResponsesEvent("response.content_part.added", seq, fields)


def content_part_done(seq: int, item_id: str, output_index: int, part: dict[str, Any]) -> ResponsesEvent:
    fields = _part_fields(item_id, output_index, part)
    return ResponsesEvent("response.content_part.done", seq, fields)


def _part_fields(item_id: str, output_index: int, part: dict[str, Any]) -> dict[str, Any]:
    # Our items hold a single content part, so content_index is always 0.
    return {"item_id": item_id, "output_index": output_index, "content_index": 0, "part": part}


def output_text_delta(seq: int, item_id: str, output_index: int, delta: str) -> ResponsesEvent:
    return ResponsesEvent(
        "response.output_text.delta",
        seq,
        {
            "item_id": item_id,
            "output_index": output_index,
            "content_index": 0,
            "delta": delta,
            "logprobs": [],
        },
    )


def output_text_done(seq: int, item_id: str, output_index: int, text: str) -> ResponsesEvent:
    return ResponsesEvent(
        "response.output_text.done",
        seq,
        {
            "item_id": item_id,
            "output_index": output_index,
            "content_index": 0,
            "text": text,
            "logprobs": [],
        },
    )


def reasoning_text_delta(seq: int, item_id: str, output_index: int, delta: str) -> ResponsesEvent:
    return ResponsesEvent(
        "response.reasoning_text.delta",
        seq,
        {"item_id": item_id, "output_index": output_index, "content_index": 0, "delta": delta},
    )


def reasoning_text_done(seq: int, item_id: str, output_index: int, text: str) -> ResponsesEvent:
    return ResponsesEvent(
        "response.reasoning_text.done",
        seq,
        {"item_id": item_id, "output_index": output_index, "content_index": 0, "text": text},
    )


def function_call_arguments_delta(seq: int, item_id: str, output_index: int, delta: str) -> ResponsesEvent:
    return ResponsesEvent(
        "response.function_call_arguments.delta",
        seq,
        {"item_id": item_id, "output_index": output_index, "delta": delta},
    )


def function_call_arguments_done(
    seq: int, item_id: str, output_index: int, name: str, arguments: str
) -> ResponsesEvent:
    return ResponsesEvent(
        "response.function_call_arguments.done",
        seq,
        {"item_id": item_id, "output_index": output_index, "name": name, "arguments": arguments},
    )
