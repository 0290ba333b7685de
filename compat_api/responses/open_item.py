"""The output item being streamed, and the events that open, extend and close it.

One item is open at a time (wire-format reference 6.3 rule 3). Opening emits
``output_item.added`` (plus ``content_part.added`` for text), so no delta can precede its item;
closing emits the ``…done`` events in protocol order, in this one place, and returns the final
item — the exact object ``response.output`` will hold.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal, TypeAlias, assert_never

from compat_api.responses import event
from compat_api.responses.event import EventSequence, ResponsesEvent

ItemKind: TypeAlias = Literal["reasoning", "message", "function_call"]
ItemStatus: TypeAlias = Literal["in_progress", "completed", "incomplete"]


@dataclass(slots=True)
class OpenItem:
    kind: ItemKind
    item_id: str
    output_index: int
    # function_call only
    call_id: str = ""
    name: str = ""
    _pieces: list[str] = field(default_factory=list)

    @property
    def text(self) -> str:
        """Message or reasoning text, or function-call arguments, so far."""
        return "".join(self._pieces)

    def open(self, seq: EventSequence) -> list[ResponsesEvent]:
        index = self.output_index
        events = [event.output_item_added(seq.take(), index, self.item("in_progress"))]
        if self.kind != "function_call":
            events.append(event.content_part_added(seq.take(), self.item_id, index, self._part("")))
        return events

    def append(self, seq: EventSequence, text: str) -> list[ResponsesEvent]:
        self._pieces.append(text)
        match self.kind:
            case "message":
                build = event.output_text_delta
            case "reasoning":
                build = event.reasoning_text_delta
            case "function_call":
                build = event.function_call_arguments_delta
            case _:
                assert_never(self.kind)
        return [build(seq.take(), self.item_id, self.output_index, text)]

    def close(self, seq: EventSequence, status: ItemStatus) -> tuple[list[ResponsesEvent], dict[str, Any]]:
        text, index, item_id = self.text, self.output_index, self.item_id
        events: list[ResponsesEvent]
        match self.kind:
            case "message":
                events = [
                    event.output_text_done(seq.take(), item_id, index, text),
                    event.content_part_done(seq.take(), item_id, index, self._part(text)),
                ]
            case "reasoning":
                events = [
                    event.reasoning_text_done(seq.take(), item_id, index, text),
                    event.content_part_done(seq.take(), item_id, index, self._part(text)),
                ]
            case "function_call":
                events = [event.function_call_arguments_done(seq.take(), item_id, index, self.name, text)]
            case _:
                assert_never(self.kind)
        final = self.item(status)
        events.append(event.output_item_done(seq.take(), index, final))
        return events, final

    def item(self, status: ItemStatus) -> dict[str, Any]:
        """The item as ``output_item.added`` (in progress, empty) or ``.done`` shows it."""
        started = status == "in_progress"
        match self.kind:
            case "message":
                return {
                    "id": self.item_id,
                    "type": "message",
                    "status": status,
                    "role": "assistant",
                    "content": [] if started else [self._part(self.text)],
                }
            case "reasoning":
                item: dict[str, Any] = {
                    "id": self.item_id,
                    "type": "reasoning",
                    "status": status,
                    "summary": [],
                }
                if not started:
                    item["content"] = [self._part(self.text)]
                return item
            case "function_call":
                return {
                    "id": self.item_id,
                    "type": "function_call",
                    "status": status,
                    "call_id": self.call_id,
                    "name": self.name,
                    "arguments": "" if started else self.text,
                }
            case _:
                assert_never(self.kind)

    def _part(self, text: str) -> dict[str, Any]:
        if self.kind == "reasoning":
            return {"type": "reasoning_text", "text": text}
        return {"type": "output_text", "text": text, "annotations": [], "logprobs": []}
