"""The non-streaming body is the fold of the stream's chunks."""

from __future__ import annotations

from typing import Any

import pytest

from compat_api.chat.chunk import ChunkHead
from compat_api.chat.completion_body import fold_chunks
from compat_api.chat.stream_state import ChatStreamState
from paddler_protocol.paddler_message import (
    ContentToken,
    Done,
    PaddlerMessage,
    ParsedToolCall,
    ReasoningToken,
    ToolCallParsed,
)
from paddler_protocol.token_usage import TokenUsage

USAGE = TokenUsage(prompt_tokens=14, content_tokens=4, reasoning_tokens=33)
USAGE_JSON = {
    "prompt_tokens": 14,
    "completion_tokens": 37,
    "total_tokens": 51,
    "prompt_tokens_details": {"cached_tokens": 0, "audio_tokens": 0},
    "completion_tokens_details": {"reasoning_tokens": 33},
}


def fold(
    *messages: PaddlerMessage, reasoning_field: str = "reasoning_content", max_tokens: int = 100
) -> dict[str, Any]:
    state = ChatStreamState(
        head=ChunkHead("chatcmpl-x", 1700000000, "m", include_usage=True),
        max_tokens=max_tokens,
        new_tool_call_id=lambda: "call_generated",
        reasoning_field=reasoning_field,
    )
    chunks = [chunk for message in messages for chunk in state.on_message(message)]
    return dict(fold_chunks(chunks, reasoning_field=reasoning_field))


def test_a_text_answer_folds_into_the_exact_completion_object() -> None:
    assert fold(ContentToken("Hi"), ContentToken(" there!"), Done(USAGE)) == {
        "id": "chatcmpl-x",
        "object": "chat.completion",
        "created": 1700000000,
        "model": "m",
        "choices": [
            {
                "index": 0,
                "message": {"role": "assistant", "content": "Hi there!", "refusal": None, "annotations": []},
                "logprobs": None,
                "finish_reason": "stop",
            }
        ],
        "usage": USAGE_JSON,
        "service_tier": "default",
    }


def test_a_tool_call_turn_has_null_content_and_the_calls_in_order() -> None:
    body = fold(
        ToolCallParsed((ParsedToolCall("call_a", "get_weather", '{"city":"Paris"}'),)),
        ToolCallParsed((ParsedToolCall("", "get_time", '{"zone":"CET"}'),)),
        Done(USAGE),
    )
    assert body["choices"][0] == {
        "index": 0,
        "message": {
            "role": "assistant",
            "content": None,
            "refusal": None,
            "annotations": [],
            "tool_calls": [
                {
                    "id": "call_a",
                    "type": "function",
                    "function": {"name": "get_weather", "arguments": '{"city":"Paris"}'},
                },
                {
                    "id": "call_generated",
                    "type": "function",
                    "function": {"name": "get_time", "arguments": '{"zone":"CET"}'},
                },
            ],
        },
        "logprobs": None,
        "finish_reason": "tool_calls",
    }


def test_text_before_a_tool_call_is_kept_as_content() -> None:
    body = fold(ContentToken("Checking."), ToolCallParsed((ParsedToolCall("c", "f", "{}"),)), Done(USAGE))
    assert body["choices"][0]["message"]["content"] == "Checking."


def test_an_empty_answer_has_empty_string_content() -> None:
    message = fold(Done(USAGE))["choices"][0]["message"]
    assert message["content"] == "" and "tool_calls" not in message


def test_reasoning_is_on_the_message_and_never_in_content() -> None:
    message = fold(ReasoningToken("Think"), ReasoningToken("ing"), ContentToken("42"), Done(USAGE))["choices"][0][
        "message"
    ]
    assert (message["content"], message["reasoning_content"]) == ("42", "Thinking")


@pytest.mark.parametrize("field", ["", "reasoning"])
def test_the_reasoning_field_follows_the_setting(field: str) -> None:
    message = fold(ReasoningToken("Think"), ContentToken("42"), Done(USAGE), reasoning_field=field)["choices"][0][
        "message"
    ]
    assert "reasoning_content" not in message
    assert message.get("reasoning") == ("Think" if field else None)


def test_the_finish_reason_length_is_folded() -> None:
    assert (
        fold(ContentToken("a"), ContentToken("b"), Done(TokenUsage(content_tokens=2)), max_tokens=2)["choices"][0][
            "finish_reason"
        ]
        == "length"
    )


def test_folding_nothing_is_a_programming_error() -> None:
    with pytest.raises(ValueError):
        fold_chunks([], reasoning_field="reasoning_content")
