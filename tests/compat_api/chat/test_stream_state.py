"""Scripted Paddler messages in, exact ``chat.completion.chunk`` objects out."""

from __future__ import annotations

from collections.abc import Iterator
from itertools import count
from typing import Any

import pytest

from compat_api.chat.chunk import ChunkHead
from compat_api.chat.stream_state import ChatStreamState
from inference.errors import UpstreamUnavailable
from paddler_protocol.errors import GenerationFailed, ToolCallFailed, UpstreamErrorReply
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

HEAD = {
    "id": "chatcmpl-x",
    "object": "chat.completion.chunk",
    "created": 1700000000,
    "model": "m",
    "service_tier": "default",
}
USAGE = TokenUsage(prompt_tokens=10, content_tokens=2, reasoning_tokens=3, tool_call_tokens=4)
USAGE_JSON = {
    "prompt_tokens": 10,
    "completion_tokens": 9,
    "total_tokens": 19,
    "prompt_tokens_details": {"cached_tokens": 0, "audio_tokens": 0},
    "completion_tokens_details": {"reasoning_tokens": 3},
}


def generated_ids() -> Iterator[str]:
    return (f"call_gen{n}" for n in count())


def new_state(*, include_usage: bool = False, max_tokens: int = 100, **options: Any) -> ChatStreamState:
    ids = generated_ids()
    return ChatStreamState(
        head=ChunkHead("chatcmpl-x", 1700000000, "m", include_usage),
        max_tokens=max_tokens,
        new_tool_call_id=lambda: next(ids),
        **options,
    )


def run(state: ChatStreamState, *messages: PaddlerMessage) -> list[dict[str, Any]]:
    chunks: list[dict[str, Any]] = []
    for message in messages:
        chunks += state.on_message(message)
    return chunks


def chunk(delta: dict[str, Any], finish_reason: str | None = None, **extra: Any) -> dict[str, Any]:
    return {
        **HEAD,
        "choices": [{"index": 0, "delta": delta, "logprobs": None, "finish_reason": finish_reason}],
        **extra,
    }


ROLE = chunk({"role": "assistant", "content": ""})
ROLE_FOR_TOOLS = chunk({"role": "assistant", "content": None})


def call(index: int, call_id: str, name: str, arguments: str) -> dict[str, Any]:
    return chunk(
        {
            "tool_calls": [
                {"index": index, "id": call_id, "type": "function", "function": {"name": name, "arguments": arguments}}
            ]
        }
    )


@pytest.mark.parametrize(
    "messages, expected",
    [
        pytest.param(
            [ContentToken("Hi"), ContentToken(" there"), Done(USAGE)],
            [ROLE, chunk({"content": "Hi"}), chunk({"content": " there"}), chunk({}, "stop")],
            id="plain text",
        ),
        pytest.param(
            [UndeterminableToken("raw"), Done(USAGE)],
            [ROLE, chunk({"content": "raw"}), chunk({}, "stop")],
            id="undeterminable tokens are content",
        ),
        pytest.param(
            [ContentToken(""), Done(USAGE)],
            [ROLE, chunk({}, "stop")],
            id="empty tokens send nothing but the role still comes first",
        ),
        pytest.param(
            [ReasoningToken("Let me"), ReasoningToken(" think"), ContentToken("42"), Done(USAGE)],
            [
                ROLE,
                chunk({"reasoning_content": "Let me"}),
                chunk({"reasoning_content": " think"}),
                chunk({"content": "42"}),
                chunk({}, "stop"),
            ],
            id="reasoning in its own field and chunks",
        ),
        pytest.param(
            [
                ToolCallToken('{"name"'),
                ToolCallToken(': "f"}'),
                ToolCallParsed((ParsedToolCall("call_a", "get_weather", '{"city":"Paris"}'),)),
                Done(USAGE),
            ],
            [ROLE_FOR_TOOLS, call(0, "call_a", "get_weather", '{"city":"Paris"}'), chunk({}, "tool_calls")],
            id="one tool call: role with null content, whole call in its first delta",
        ),
        pytest.param(
            [
                ToolCallParsed((ParsedToolCall("call_a", "f", "{}"), ParsedToolCall("call_b", "g", '{"x":1}'))),
                Done(USAGE),
            ],
            [ROLE_FOR_TOOLS, call(0, "call_a", "f", "{}"), call(1, "call_b", "g", '{"x":1}'), chunk({}, "tool_calls")],
            id="two calls in one batch",
        ),
        pytest.param(
            [
                ToolCallParsed((ParsedToolCall("call_a", "f", "{}"),)),
                ToolCallParsed((ParsedToolCall("call_b", "g", "{}"),)),
                Done(USAGE),
            ],
            [ROLE_FOR_TOOLS, call(0, "call_a", "f", "{}"), call(1, "call_b", "g", "{}"), chunk({}, "tool_calls")],
            id="the index runs across batches",
        ),
        pytest.param(
            [ContentToken("Checking."), ToolCallParsed((ParsedToolCall("call_a", "f", "{}"),)), Done(USAGE)],
            [ROLE, chunk({"content": "Checking."}), call(0, "call_a", "f", "{}"), chunk({}, "tool_calls")],
            id="text before a tool call",
        ),
        pytest.param(
            [ToolCallParsed((ParsedToolCall("", "f", "{}"), ParsedToolCall("", "g", "{}"))), Done(USAGE)],
            [ROLE_FOR_TOOLS, call(0, "call_gen0", "f", "{}"), call(1, "call_gen1", "g", "{}"), chunk({}, "tool_calls")],
            id="empty tool-call ids are replaced",
        ),
        pytest.param(
            [ToolCallParsed((ParsedToolCall("call_a", "f", '{"city": "Par', arguments_valid=False),)), Done(USAGE)],
            [ROLE_FOR_TOOLS, call(0, "call_a", "f", '{"city": "Par'), chunk({}, "tool_calls")],
            id="invalid-json arguments are relayed verbatim",
        ),
        pytest.param(
            [ToolCallParsed(()), ContentToken("ok"), Done(USAGE)],
            [ROLE, chunk({"content": "ok"}), chunk({}, "stop")],
            id="an empty batch is nothing",
        ),
        pytest.param(
            [Done(USAGE)],
            [ROLE, chunk({}, "stop")],
            id="an empty answer still has a role and a finish",
        ),
    ],
)
def test_messages_become_these_chunks(messages: list[PaddlerMessage], expected: list[dict[str, Any]]) -> None:
    assert run(new_state(), *messages) == expected


def test_usage_chunk_comes_last_and_other_chunks_carry_null_usage_when_asked() -> None:
    chunks = run(new_state(include_usage=True), ContentToken("Hi"), Done(USAGE))
    assert chunks == [
        {**ROLE, "usage": None},
        chunk({"content": "Hi"}, usage=None),
        chunk({}, "stop", usage=None),
        {**HEAD, "choices": [], "usage": USAGE_JSON},
    ]


def test_without_include_usage_no_chunk_has_a_usage_key() -> None:
    chunks = run(new_state(), ContentToken("Hi"), Done(USAGE))
    assert all("usage" not in c for c in chunks)


@pytest.mark.parametrize(
    "usage, max_tokens, finish_reason",
    [
        (TokenUsage(content_tokens=5), 5, "length"),
        (TokenUsage(content_tokens=2, reasoning_tokens=2, undeterminable_tokens=1), 5, "length"),
        (TokenUsage(content_tokens=4), 5, "stop"),
        # Tool-call tokens do not count towards Paddler's max_tokens (protocol reference 2.3).
        (TokenUsage(content_tokens=1, tool_call_tokens=10), 5, "stop"),
    ],
)
def test_length_is_inferred_from_the_counted_tokens(usage: TokenUsage, max_tokens: int, finish_reason: str) -> None:
    state = new_state(max_tokens=max_tokens)
    assert run(state, Done(usage))[-1] == chunk({}, finish_reason)
    assert state.finish_reason == finish_reason


def test_tool_calls_win_over_length() -> None:
    state = new_state(max_tokens=1)
    chunks = run(
        state, ContentToken("x"), ToolCallParsed((ParsedToolCall("c", "f", "{}"),)), Done(TokenUsage(content_tokens=1))
    )
    assert chunks[-1] == chunk({}, "tool_calls")


def test_reasoning_goes_to_the_configured_field() -> None:
    chunks = run(new_state(reasoning_field="reasoning"), ReasoningToken("hmm"))
    assert chunks == [ROLE, chunk({"reasoning": "hmm"})]


def test_reasoning_is_dropped_when_the_field_is_off() -> None:
    chunks = run(new_state(reasoning_field=""), ReasoningToken("hmm"), ContentToken("A"))
    assert chunks == [ROLE, chunk({"content": "A"})]


def test_without_parallel_tool_calls_only_the_first_call_is_relayed() -> None:
    state = new_state(parallel_tool_calls=False)
    chunks = run(
        state,
        ToolCallParsed((ParsedToolCall("a", "f", "{}"), ParsedToolCall("b", "g", "{}"))),
        ToolCallParsed((ParsedToolCall("c", "h", "{}"),)),
        Done(USAGE),
    )
    assert chunks == [ROLE_FOR_TOOLS, call(0, "a", "f", "{}"), chunk({}, "tool_calls")]


def test_the_role_is_sent_exactly_once() -> None:
    chunks = run(
        new_state(),
        ReasoningToken("r"),
        ContentToken("c"),
        ToolCallParsed((ParsedToolCall("a", "f", "{}"),)),
        Done(USAGE),
    )
    assert sum("role" in c["choices"][0]["delta"] for c in chunks) == 1


def test_nothing_follows_the_finish() -> None:
    state = new_state()
    run(state, Done(USAGE))
    assert state.on_message(ContentToken("late")) == []
    assert state.on_error(UpstreamUnavailable()) == []


@pytest.mark.parametrize(
    "message, error_type",
    [
        (ErrorEnvelope(504, "Waiting for available slot timed out"), UpstreamErrorReply),
        (GenerationError("ChatTemplateError", "bad template"), GenerationFailed),
        (ToolCallParseFailed("cannot parse"), ToolCallFailed),
        (ToolCallValidationFailed(('unknown tool name "x"',)), ToolCallFailed),
        (UnrecognizedToolCallFormat("<x>", "no parser"), ToolCallFailed),
    ],
)
def test_error_messages_are_raised_as_their_exceptions(message: PaddlerMessage, error_type: type[Exception]) -> None:
    with pytest.raises(error_type):
        new_state().on_message(message)


def test_an_error_after_streaming_started_is_one_openai_error_object() -> None:
    state = new_state()
    run(state, ContentToken("Par"))
    payloads = state.on_error(UpstreamErrorReply(504, "Inference timed out after 30000ms waiting for next token."))
    assert payloads == [
        {
            "error": {
                "message": "Inference timed out after 30000ms waiting for next token.",
                "type": "timeout",
                "param": None,
                "code": None,
            }
        }
    ]
    assert state.finished


def test_an_unexpected_exception_in_band_does_not_leak_its_text() -> None:
    payloads = new_state().on_error(RuntimeError("secret internals"))
    assert payloads[0]["error"]["type"] == "server_error"
    assert "secret" not in payloads[0]["error"]["message"]
