"""Paddler messages -> Responses events, in the order the protocol demands (reference 6.3, 6.4).

The only place that knows the ordering rules: ``sequence_number`` gapless from 0;
``response.created`` + ``response.in_progress`` with the first upstream message (so a refusal by
Paddler before any token still gets a real HTTP status); every delta after its item was added;
one item open at a time, closed before the next opens and before the terminal event; the
terminal ``response.output`` equal to the ``output_item.done`` items. Ids and the clock are
passed in, so a test can script messages in and read exact events out.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Literal, TypeAlias, assert_never

from compat_api.error_envelope import describe_error
from compat_api.responses import event
from compat_api.responses.event import EventSequence, ResponsesEvent
from compat_api.responses.open_item import ItemKind, ItemStatus, OpenItem
from compat_api.responses.response_object import ResponseError, ResponseObjectBuilder
from paddler_protocol.message_errors import error_for_message
from paddler_protocol.paddler_message import (
    ContentToken,
    Done,
    ErrorEnvelope,
    GenerationError,
    PaddlerMessage,
    ParsedToolCall,
    ReasoningToken,
    ToolCallParsed,
    ToolCallParseFailed,
    ToolCallToken,
    ToolCallValidationFailed,
    UndeterminableToken,
    UnrecognizedToolCallFormat,
)
from paddler_protocol.token_usage import TokenUsage

Outcome: TypeAlias = Literal["completed", "incomplete", "failed"]

_ID_PREFIXES: dict[ItemKind, str] = {"message": "msg", "reasoning": "rs", "function_call": "fc"}


@dataclass
class ResponsesStreamState:
    builder: ResponseObjectBuilder
    # The max_tokens sent upstream: reaching it means the answer was cut (reference 2.3).
    max_tokens: int
    new_id: Callable[[str], str]
    now: Callable[[], int]
    # False: at most one function call per response, as OpenAI guarantees (Paddler cannot stop
    # the model from writing more, so later ones are not relayed).
    parallel_tool_calls: bool = True
    _seq: EventSequence = field(default_factory=EventSequence)
    _started: bool = False
    _open: OpenItem | None = None
    _output: list[dict[str, Any]] = field(default_factory=list)
    _call_ids: set[str] = field(default_factory=set)
    _final: dict[str, Any] | None = None
    _final_json: str | None = None
    _outcome: Outcome | None = None
    _failure: BaseException | None = None

    @property
    def final_response(self) -> dict[str, Any] | None:
        """The terminal snapshot (completed, incomplete or failed), once there is one."""
        return self._final

    @property
    def final_response_json(self) -> str | None:
        """``final_response`` as its terminal event serialised it, for the stored copy."""
        return self._final_json

    @property
    def outcome(self) -> Outcome | None:
        return self._outcome

    @property
    def failure(self) -> BaseException | None:
        """What failed the response, for a caller that must raise it (non-streaming)."""
        return self._failure

    @property
    def started(self) -> bool:
        return self._started

    def on_message(self, message: PaddlerMessage) -> list[ResponsesEvent]:
        if self._final is not None:
            return []
        open_item = self._open
        if open_item is not None and type(message) is ContentToken and message.text and open_item.kind == "message":
            # Nearly every message: one more token of the open message item, one delta.
            return open_item.append(self._seq, message.text)
        events = self._start()
        match message:
            case ContentToken(text) | UndeterminableToken(text):
                events += self._append("message", text)
            case ReasoningToken(text):
                events += self._append("reasoning", text)
            case ToolCallToken():
                pass  # the raw call text; the parsed call follows as ToolCallParsed
            case ToolCallParsed(calls):
                events += self._close_open("completed")
                for call in calls:
                    if self.parallel_tool_calls or not self._call_ids:
                        events += self._function_call(call)
            case Done(usage):
                events += self._finish(usage)
            case (
                ErrorEnvelope()
                | GenerationError()
                | ToolCallParseFailed()
                | ToolCallValidationFailed()
                | UnrecognizedToolCallFormat()
            ):
                error = error_for_message(message)
                assert error is not None
                events += self.on_error(error)
            case _:
                assert_never(message)
        return events

    def on_error(self, exc: BaseException) -> list[ResponsesEvent]:
        """After the stream started: close the open item, then ``error`` and ``response.failed``
        (reference 6.5); nothing follows them."""
        if self._final is not None:
            return []
        events = self._start()
        events += self._close_open("incomplete")
        description = describe_error(exc)
        events.append(event.error_event(self._seq.take(), description))
        code = description.code or description.type
        self._set_final(
            self.builder.build(status="failed", output=self._output, error=ResponseError(code, description.message))
        )
        self._outcome = "failed"
        self._failure = exc
        events.append(event.response_failed(self._seq.take(), *self._final_pair()))
        return events

    def _start(self) -> list[ResponsesEvent]:
        if self._started:
            return []
        self._started = True
        snapshot = self.builder.build(status="in_progress")
        snapshot_json = event.response_json(snapshot)  # the same in both events
        return [
            event.response_created(self._seq.take(), snapshot, snapshot_json),
            event.response_in_progress(self._seq.take(), snapshot, snapshot_json),
        ]

    def _append(self, kind: ItemKind, text: str) -> list[ResponsesEvent]:
        if not text:
            return []
        events: list[ResponsesEvent] = []
        if self._open is None or self._open.kind != kind:
            events += self._close_open("completed")
            events += self._open_item(OpenItem(kind, self._item_id(kind), len(self._output)))
        assert self._open is not None
        return events + self._open.append(self._seq, text)

    def _function_call(self, call: ParsedToolCall) -> list[ResponsesEvent]:
        item = OpenItem(
            "function_call",
            self._item_id("function_call"),
            len(self._output),
            call_id=self._call_id(call.id),
            name=call.name,
        )
        events = self._open_item(item)
        if call.arguments:
            events += item.append(self._seq, call.arguments)
        return events + self._close_open("completed")

    def _open_item(self, item: OpenItem) -> list[ResponsesEvent]:
        self._open = item
        return item.open(self._seq)

    def _close_open(self, status: ItemStatus) -> list[ResponsesEvent]:
        if self._open is None:
            return []
        events, final_item = self._open.close(self._seq, status)
        self._output.append(final_item)
        self._open = None
        return events

    def _finish(self, usage: TokenUsage) -> list[ResponsesEvent]:
        truncated = usage.max_tokens_counted >= self.max_tokens
        events = self._close_open("incomplete" if truncated else "completed")
        if truncated:
            self._set_final(
                self.builder.build(
                    status="incomplete",
                    output=self._output,
                    usage=usage,
                    incomplete_reason="max_output_tokens",
                )
            )
            self._outcome = "incomplete"
            events.append(event.response_incomplete(self._seq.take(), *self._final_pair()))
        else:
            self._set_final(
                self.builder.build(status="completed", output=self._output, usage=usage, completed_at=self.now())
            )
            self._outcome = "completed"
            events.append(event.response_completed(self._seq.take(), *self._final_pair()))
        return events

    def _set_final(self, response: dict[str, Any]) -> None:
        self._final = response
        self._final_json = event.response_json(response)

    def _final_pair(self) -> tuple[dict[str, Any], str]:
        assert self._final is not None and self._final_json is not None
        return self._final, self._final_json

    def _item_id(self, kind: ItemKind) -> str:
        return self.new_id(_ID_PREFIXES[kind])

    def _call_id(self, upstream_id: str) -> str:
        # Some model formats give no id, and some repeat one per batch; clients pair a call with
        # its output by call_id, so each must be unique within the response.
        call_id = upstream_id if upstream_id and upstream_id not in self._call_ids else ""
        call_id = call_id or self.new_id("call")
        self._call_ids.add(call_id)
        return call_id
