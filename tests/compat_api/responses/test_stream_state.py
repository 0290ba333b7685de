"""Scripted Paddler messages in, exact Responses events out."""

from __future__ import annotations

import json
from collections.abc import Iterable
from itertools import count
from typing import Any

from compat_api.responses.event import ResponsesEvent
from compat_api.responses.request import ResponsesRequest
from compat_api.responses.response_object import ResponseObjectBuilder
from compat_api.responses.stream_state import ResponsesStreamState
from compat_api.sse import encode_sse
from inference.errors import UpstreamTimeout
from paddler_protocol.errors import UpstreamErrorReply
from paddler_protocol.paddler_message import (
    ContentToken,
    Done,
    ErrorEnvelope,
    GenerationError,
    PaddlerMessage,
    ParsedToolCall,
    ReasoningToken,
    ToolCallParsed,
    ToolCallToken,
    ToolCallValidationFailed,
    UndeterminableToken,
)
from paddler_protocol.token_usage import TokenUsage

USAGE = TokenUsage(prompt_tokens=10, content_tokens=2, reasoning_tokens=3, tool_call_tokens=4)


def new_state(max_tokens: int = 100, **request: Any) -> ResponsesStreamState:
    numbers = count(1)
    builder = ResponseObjectBuilder("resp_1", 1700000000, ResponsesRequest(model="m", **request))
    return ResponsesStreamState(
        builder=builder,
        max_tokens=max_tokens,
        new_id=lambda prefix: f"{prefix}_{next(numbers)}",
        now=lambda: 1700000005,
        parallel_tool_calls=builder.request.parallel_tool_calls,
    )


def run(state: ResponsesStreamState, messages: Iterable[PaddlerMessage]) -> list[dict[str, Any]]:
    events: list[ResponsesEvent] = []
    for message in messages:
        events += state.on_message(message)
    return [event.to_json() for event in events]


def types(events: list[dict[str, Any]]) -> list[str]:
    return [event["type"] for event in events]


def without_responses(events: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [event for event in events if "response" not in event]


def test_plain_text_streams_the_canonical_sequence():
    state = new_state()

    events = run(state, [ContentToken("Hel"), ContentToken("lo"), Done(USAGE)])

    message = {
        "id": "msg_1",
        "type": "message",
        "status": "completed",
        "role": "assistant",
        "content": [{"type": "output_text", "text": "Hello", "annotations": [], "logprobs": []}],
    }
    assert [event["sequence_number"] for event in events] == list(range(10))
    assert types(events) == [
        "response.created",
        "response.in_progress",
        "response.output_item.added",
        "response.content_part.added",
        "response.output_text.delta",
        "response.output_text.delta",
        "response.output_text.done",
        "response.content_part.done",
        "response.output_item.done",
        "response.completed",
    ]
    assert without_responses(events) == [
        {
            "type": "response.output_item.added",
            "sequence_number": 2,
            "output_index": 0,
            "item": {"id": "msg_1", "type": "message", "status": "in_progress", "role": "assistant", "content": []},
        },
        {
            "type": "response.content_part.added",
            "sequence_number": 3,
            "item_id": "msg_1",
            "output_index": 0,
            "content_index": 0,
            "part": {"type": "output_text", "text": "", "annotations": [], "logprobs": []},
        },
        {
            "type": "response.output_text.delta",
            "sequence_number": 4,
            "item_id": "msg_1",
            "output_index": 0,
            "content_index": 0,
            "delta": "Hel",
            "logprobs": [],
        },
        {
            "type": "response.output_text.delta",
            "sequence_number": 5,
            "item_id": "msg_1",
            "output_index": 0,
            "content_index": 0,
            "delta": "lo",
            "logprobs": [],
        },
        {
            "type": "response.output_text.done",
            "sequence_number": 6,
            "item_id": "msg_1",
            "output_index": 0,
            "content_index": 0,
            "text": "Hello",
            "logprobs": [],
        },
        {
            "type": "response.content_part.done",
            "sequence_number": 7,
            "item_id": "msg_1",
            "output_index": 0,
            "content_index": 0,
            "part": {"type": "output_text", "text": "Hello", "annotations": [], "logprobs": []},
        },
        {"type": "response.output_item.done", "sequence_number": 8, "output_index": 0, "item": message},
    ]
    completed = events[-1]["response"]
    assert completed["status"] == "completed"
    assert completed["completed_at"] == 1700000005
    assert completed["output"] == [message]
    assert completed["usage"] == {
        "input_tokens": 10,
        "input_tokens_details": {"cached_tokens": 0},
        "output_tokens": 9,
        "output_tokens_details": {"reasoning_tokens": 3},
        "total_tokens": 19,
    }
    assert state.outcome == "completed"
    assert state.final_response == completed


def test_created_and_in_progress_come_with_the_first_message_only():
    state = new_state()

    first = run(state, [ContentToken("a")])
    second = run(state, [ContentToken("b")])

    assert types(first)[:2] == ["response.created", "response.in_progress"]
    for event in first[:2]:
        assert event["response"]["status"] == "in_progress"
        assert event["response"]["output"] == []
        assert event["response"]["usage"] is None
    assert types(second) == ["response.output_text.delta"]
    assert second[0]["sequence_number"] == 5


def test_reasoning_then_text_are_two_items_closed_in_order():
    state = new_state()

    events = run(state, [ReasoningToken("Think"), ReasoningToken("ing"), ContentToken("Answer"), Done(USAGE)])

    assert types(events)[2:] == [
        "response.output_item.added",
        "response.content_part.added",
        "response.reasoning_text.delta",
        "response.reasoning_text.delta",
        "response.reasoning_text.done",
        "response.content_part.done",
        "response.output_item.done",
        "response.output_item.added",
        "response.content_part.added",
        "response.output_text.delta",
        "response.output_text.done",
        "response.content_part.done",
        "response.output_item.done",
        "response.completed",
    ]
    assert events[3]["part"] == {"type": "reasoning_text", "text": ""}
    assert events[4] == {
        "type": "response.reasoning_text.delta",
        "sequence_number": 4,
        "item_id": "rs_1",
        "output_index": 0,
        "content_index": 0,
        "delta": "Think",
    }
    reasoning = {
        "id": "rs_1",
        "type": "reasoning",
        "status": "completed",
        "summary": [],
        "content": [{"type": "reasoning_text", "text": "Thinking"}],
    }
    assert events[8]["item"] == reasoning
    assert events[9]["output_index"] == 1
    assert [item["id"] for item in events[-1]["response"]["output"]] == ["rs_1", "msg_2"]


def test_undeterminable_tokens_are_shown_as_text():
    events = run(new_state(), [UndeterminableToken("raw"), Done(USAGE)])

    assert events[-1]["response"]["output"][0]["content"][0]["text"] == "raw"


def test_raw_tool_call_tokens_are_not_shown():
    events = run(new_state(), [ToolCallToken("<tool_call>"), Done(USAGE)])

    assert types(events) == ["response.created", "response.in_progress", "response.completed"]
    assert events[-1]["response"]["output"] == []


def test_a_function_call_gets_its_own_complete_item():
    state = new_state()

    events = run(
        state,
        [
            ToolCallToken("{"),
            ToolCallParsed((ParsedToolCall("call_abc", "get_weather", '{"city":"Paris"}'),)),
            Done(USAGE),
        ],
    )

    done_item = {
        "id": "fc_1",
        "type": "function_call",
        "status": "completed",
        "call_id": "call_abc",
        "name": "get_weather",
        "arguments": '{"city":"Paris"}',
    }
    assert without_responses(events) == [
        {
            "type": "response.output_item.added",
            "sequence_number": 2,
            "output_index": 0,
            "item": {**done_item, "status": "in_progress", "arguments": ""},
        },
        {
            "type": "response.function_call_arguments.delta",
            "sequence_number": 3,
            "item_id": "fc_1",
            "output_index": 0,
            "delta": '{"city":"Paris"}',
        },
        {
            "type": "response.function_call_arguments.done",
            "sequence_number": 4,
            "item_id": "fc_1",
            "output_index": 0,
            "name": "get_weather",
            "arguments": '{"city":"Paris"}',
        },
        {"type": "response.output_item.done", "sequence_number": 5, "output_index": 0, "item": done_item},
    ]
    assert events[-1]["response"]["output"] == [done_item]


def test_text_then_several_calls_close_the_message_first_and_number_every_item():
    events = run(
        new_state(),
        [
            ContentToken("Checking."),
            ToolCallParsed(
                (
                    ParsedToolCall("", "get_weather", '{"city":"Paris"}'),
                    ParsedToolCall("", "get_weather", '{"city":"Rome"}'),
                )
            ),
            Done(USAGE),
        ],
    )

    output = events[-1]["response"]["output"]
    assert [(item["type"], item["id"]) for item in output] == [
        ("message", "msg_1"),
        ("function_call", "fc_2"),
        ("function_call", "fc_4"),
    ]
    assert [item["call_id"] for item in output[1:]] == ["call_3", "call_5"]
    added = [event for event in events if event["type"] == "response.output_item.added"]
    assert [event["output_index"] for event in added] == [0, 1, 2]
    message_done = types(events).index("response.output_item.done")
    assert message_done < types(events).index("response.function_call_arguments.delta")


def test_a_call_id_repeated_by_the_model_is_replaced_to_stay_unique():
    events = run(
        new_state(),
        [
            ToolCallParsed((ParsedToolCall("0", "f", "{}"),)),
            ToolCallParsed((ParsedToolCall("0", "f", "{}"),)),
            Done(USAGE),
        ],
    )

    assert [item["call_id"] for item in events[-1]["response"]["output"]] == ["0", "call_3"]


def test_without_parallel_tool_calls_only_the_first_call_is_relayed():
    events = run(
        new_state(parallel_tool_calls=False),
        [
            ToolCallParsed((ParsedToolCall("call_a", "f", "{}"), ParsedToolCall("call_b", "f", "{}"))),
            ToolCallParsed((ParsedToolCall("call_c", "f", "{}"),)),
            Done(USAGE),
        ],
    )

    assert [item["call_id"] for item in events[-1]["response"]["output"]] == ["call_a"]
    assert events[-1]["response"]["parallel_tool_calls"] is False


def test_output_matches_the_output_item_done_items():
    events = run(
        new_state(),
        [
            ReasoningToken("r"),
            ContentToken("c"),
            ToolCallParsed((ParsedToolCall("call_1", "f", "{}"),)),
            ContentToken("after"),
            Done(USAGE),
        ],
    )

    done_items = [event["item"] for event in events if event["type"] == "response.output_item.done"]
    assert events[-1]["response"]["output"] == done_items
    assert len({item["id"] for item in done_items}) == 4


def test_reaching_max_tokens_ends_incomplete_with_the_open_item_incomplete():
    state = new_state(max_tokens=3, max_output_tokens=3)
    usage = TokenUsage(prompt_tokens=5, content_tokens=3)

    events = run(state, [ContentToken("a"), ContentToken("b"), ContentToken("c"), Done(usage)])

    assert types(events)[-2:] == ["response.output_item.done", "response.incomplete"]
    assert events[-2]["item"]["status"] == "incomplete"
    response = events[-1]["response"]
    assert response["status"] == "incomplete"
    assert response["incomplete_details"] == {"reason": "max_output_tokens"}
    assert response["completed_at"] is None
    assert response["usage"]["output_tokens"] == 3
    assert response["max_output_tokens"] == 3
    assert state.outcome == "incomplete"


def test_tool_call_tokens_do_not_count_towards_the_limit():
    usage = TokenUsage(prompt_tokens=5, content_tokens=1, tool_call_tokens=50)

    events = run(new_state(max_tokens=3), [ContentToken("a"), Done(usage)])

    assert events[-1]["type"] == "response.completed"


def test_an_error_after_the_start_closes_the_item_then_error_then_failed():
    state = new_state()
    events = run(state, [ContentToken("partial")])

    failure = [event.to_json() for event in state.on_error(UpstreamErrorReply(504, "Inference timed out after 30s"))]

    assert types(failure) == [
        "response.output_text.done",
        "response.content_part.done",
        "response.output_item.done",
        "error",
        "response.failed",
    ]
    assert failure[2]["item"]["status"] == "incomplete"
    assert failure[3] == {
        "type": "error",
        "sequence_number": failure[2]["sequence_number"] + 1,
        "code": None,
        "message": "Inference timed out after 30s",
        "param": None,
        "error": {"type": "timeout", "code": None, "message": "Inference timed out after 30s", "param": None},
    }
    response = failure[4]["response"]
    assert response["status"] == "failed"
    assert response["error"] == {"code": "timeout", "message": "Inference timed out after 30s"}
    assert response["output"] == [failure[2]["item"]]
    assert response["usage"] is None
    assert [event["sequence_number"] for event in events + failure] == list(range(len(events + failure)))
    assert state.outcome == "failed"


def test_nothing_follows_a_failure():
    state = new_state()
    run(state, [ContentToken("a")])
    state.on_error(UpstreamTimeout())

    assert state.on_message(ContentToken("more")) == []
    assert state.on_message(Done(USAGE)) == []
    assert state.on_error(UpstreamTimeout()) == []


def test_an_error_message_from_upstream_fails_the_response():
    events = run(new_state(), [ContentToken("a"), ErrorEnvelope(502, "Agent controller connection closed")])

    assert types(events)[-2:] == ["error", "response.failed"]
    assert events[-1]["response"]["error"] == {
        "code": "server_error",
        "message": "Agent controller connection closed",
    }


def test_a_template_error_is_an_invalid_request_in_band():
    events = run(new_state(), [GenerationError("ChatTemplateError", "bad template")])

    assert types(events) == ["response.created", "response.in_progress", "error", "response.failed"]
    assert events[2]["error"]["type"] == "invalid_request_error"


def test_a_tool_call_validation_failure_ends_the_response():
    state = new_state()

    events = run(state, [ToolCallValidationFailed(("missing city",)), ContentToken("more"), Done(USAGE)])

    assert types(events)[-2:] == ["error", "response.failed"]
    assert events[-1]["response"]["error"]["message"] == "missing city"


def test_the_response_object_echoes_the_request_settings():
    state = new_state(
        instructions="Be brief.",
        temperature=0.3,
        top_p=0.5,
        metadata={"k": "v"},
        store=False,
        previous_response_id="resp_0",
        user="u1",
        parallel_tool_calls=False,
        truncation="auto",
    )

    response = run(state, [Done(USAGE)])[-1]["response"]

    assert {
        key: response[key]
        for key in (
            "instructions",
            "temperature",
            "top_p",
            "metadata",
            "store",
            "previous_response_id",
            "user",
            "parallel_tool_calls",
            "truncation",
            "model",
            "id",
            "created_at",
            "object",
        )
    } == {
        "instructions": "Be brief.",
        "temperature": 0.3,
        "top_p": 0.5,
        "metadata": {"k": "v"},
        "store": False,
        "previous_response_id": "resp_0",
        "user": "u1",
        "parallel_tool_calls": False,
        "truncation": "auto",
        "model": "m",
        "id": "resp_1",
        "created_at": 1700000000,
        "object": "response",
    }


def test_every_event_is_sent_as_its_json_under_its_type_and_the_stored_copy_is_the_terminal_one():
    state = new_state(metadata={"note": "é \u2028"})
    events = [
        *state.on_message(ReasoningToken('why "so" \\')),
        *state.on_message(ContentToken("Grüße\n\x00\u2028 😀 </script>")),
        *state.on_message(ToolCallParsed((ParsedToolCall("call_a", "f", '{"x":1}'),))),
        *state.on_message(Done(USAGE)),
    ]

    for event in events:
        assert event.to_sse() == encode_sse(event.to_json(), event=event.type)
    assert json.loads(events[-1].to_sse().split(b"data: ", 1)[1])["response"] == state.final_response
    assert json.loads(state.final_response_json or "") == state.final_response
