"""Responses streaming events (wire-format reference 6.2): one builder per event type.

Builders take the ``sequence_number`` they are given; only ``ResponsesStreamState`` numbers
events, so the sequence stays gapless. The SSE ``event:`` line always equals the JSON ``type``.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from json.encoder import encode_basestring
from typing import Any, Literal, TypeAlias, get_args

from compat_api.error_envelope import ErrorDescription
from foundation.compact_json import compact_json

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
    # ``fields`` as compact JSON when it is already serialised: a response object is, once for
    # every event that carries it and for its stored copy (``response_json``).
    fields_json: str | None = None

    @property
    def is_terminal(self) -> bool:
        return self.type in TERMINAL_EVENT_TYPES

    def to_json(self) -> dict[str, Any]:
        return {"type": self.type, "sequence_number": self.sequence_number, **self.fields}

    def to_sse(self) -> bytes:
        """``encode_sse(self.to_json(), event=self.type)``, byte for byte, without copying the
        fields into a new dict: the head is spliced onto the fields' JSON object."""
        fields_json = compact_json(self.fields) if self.fields_json is None else self.fields_json
        return f"{_SSE_HEADS[self.type]}{self.sequence_number},{fields_json[1:]}\n\n".encode()


# What every event of a type starts with, up to its sequence_number's value.
_SSE_HEADS: dict[str, str] = {
    name: f'event: {name}\ndata: {{"type":{compact_json(name)},"sequence_number":' for name in get_args(EventType)
}


def response_json(response: Mapping[str, Any]) -> str:
    """A response object's compact JSON, to serialise it once for all its uses."""
    return compact_json(response)


@dataclass(slots=True)
class EventSequence:
    """The stream's ``sequence_number`` counter: starts at 0, +1 per event, never a gap."""

    _next: int = 0

    def take(self) -> int:
        number = self._next
        self._next += 1
        return number


# --- lifecycle ------------------------------------------------------------------------------


def response_created(seq: int, response: dict[str, Any], response_json: str) -> ResponsesEvent:
    return _lifecycle("response.created", seq, response, response_json)


def response_in_progress(seq: int, response: dict[str, Any], response_json: str) -> ResponsesEvent:
    return _lifecycle("response.in_progress", seq, response, response_json)


def response_completed(seq: int, response: dict[str, Any], response_json: str) -> ResponsesEvent:
    return _lifecycle("response.completed", seq, response, response_json)


def response_incomplete(seq: int, response: dict[str, Any], response_json: str) -> ResponsesEvent:
    return _lifecycle("response.incomplete", seq, response, response_json)


def response_failed(seq: int, response: dict[str, Any], response_json: str) -> ResponsesEvent:
    return _lifecycle("response.failed", seq, response, response_json)


def _lifecycle(type_: EventType, seq: int, response: dict[str, Any], response_json: str) -> ResponsesEvent:
    # ``response_json`` is ``response_json(response)``, made once by the caller.
    return ResponsesEvent(type_, seq, {"response": response}, '{"response":' + response_json + "}")


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
        _delta_json(item_id, output_index, ',"content_index":0,"delta":', delta, ',"logprobs":[]}'),
    )


def _delta_json(item_id: str, output_index: int, before_delta: str, delta: str, after_delta: str) -> str:
    """A delta event's fields as ``compact_json`` writes them, put together from strings: it
    runs once per relayed token, and encoding the fields' dict was most of a delta's cost."""
    return (
        f'{{"item_id":{encode_basestring(item_id)},"output_index":{output_index:d}'
        f"{before_delta}{encode_basestring(delta)}{after_delta}"
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
        _delta_json(item_id, output_index, ',"content_index":0,"delta":', delta, "}"),
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
        _delta_json(item_id, output_index, ',"delta":', delta, "}"),
    )


def function_call_arguments_done(
    seq: int, item_id: str, output_index: int, name: str, arguments: str
) -> ResponsesEvent:
    return ResponsesEvent(
        "response.function_call_arguments.done",
        seq,
        {"item_id": item_id, "output_index": output_index, "name": name, "arguments": arguments},
    )
