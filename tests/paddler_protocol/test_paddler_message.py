"""Parsing and encoding Paddler's NDJSON lines (protocol reference 1.5, 1.6, 1.8)."""

from __future__ import annotations

import json
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from paddler_protocol.errors import UpstreamProtocolError
from paddler_protocol.paddler_message import (
    STRING_ERROR_KINDS,
    ContentToken,
    Done,
    ErrorEnvelope,
    GenerationError,
    PaddlerLine,
    PaddlerMessage,
    ParsedToolCall,
    ReasoningToken,
    ToolCallParsed,
    ToolCallParseFailed,
    ToolCallToken,
    ToolCallValidationFailed,
    UndeterminableToken,
    UnrecognizedToolCallFormat,
    encode_line,
    is_terminal,
    parse_json_line,
    parse_line,
)
from paddler_protocol.token_usage import TokenUsage

REQUEST_ID = "Xy7_fQ2kLm0pRt5sVw9zA"
USAGE_JSON = {
    "prompt_tokens": 14,
    "cached_prompt_tokens": 1,
    "input_image_tokens": 2,
    "input_audio_tokens": 3,
    "content_tokens": 4,
    "reasoning_tokens": 33,
    "tool_call_tokens": 5,
    "undeterminable_tokens": 6,
}


def response_line(generated_token: Any, generated_by: str | None = "gpu-box-1") -> str:
    return json.dumps(
        {
            "Response": {
                "generated_by": generated_by,
                "request_id": REQUEST_ID,
                "response": {"GeneratedToken": generated_token},
            }
        }
    )


def parsed(generated_token: Any) -> PaddlerMessage:
    return parse_line(response_line(generated_token)).message


@pytest.mark.parametrize(
    ("variant", "expected"),
    [
        ("ContentToken", ContentToken("Hi")),
        ("ReasoningToken", ReasoningToken("Hi")),
        ("ToolCallToken", ToolCallToken("Hi")),
        ("UndeterminableToken", UndeterminableToken("Hi")),
    ],
)
def test_each_token_kind_parses_to_its_message(variant: str, expected: PaddlerMessage) -> None:
    assert parsed({variant: "Hi"}) == expected


def test_a_response_line_carries_request_id_and_agent_name() -> None:
    line = parse_line(response_line({"ContentToken": "Hi"}).encode())

    assert (line.request_id, line.generated_by) == (REQUEST_ID, "gpu-box-1")


def test_a_null_agent_name_parses_as_none() -> None:
    assert parse_line(response_line({"ContentToken": "Hi"}, generated_by=None)).generated_by is None


def test_valid_json_tool_arguments_become_compact_json_text() -> None:
    message = parsed(
        {
            "ToolCallParsed": [
                {
                    "id": "call_k3J9",
                    "name": "get_weather",
                    "arguments": {"ValidJson": {"city": "Paris", "days": [1, 2]}},
                }
            ]
        }
    )

    assert message == ToolCallParsed(
        (ParsedToolCall("call_k3J9", "get_weather", '{"city":"Paris","days":[1,2]}', True),)
    )


def test_invalid_json_tool_arguments_keep_the_raw_text() -> None:
    message = parsed(
        {
            "ToolCallParsed": [
                {
                    "id": "call_p0Q1",
                    "name": "get_weather",
                    "arguments": {"InvalidJson": '{"city": "Par'},
                }
            ]
        }
    )

    assert message == ToolCallParsed((ParsedToolCall("call_p0Q1", "get_weather", '{"city": "Par', False),))


def test_a_batch_keeps_every_call_in_order() -> None:
    message = parsed(
        {
            "ToolCallParsed": [
                {"id": "a", "name": "one", "arguments": {"ValidJson": {}}},
                {"id": "b", "name": "two", "arguments": {"ValidJson": {"x": 1}}},
            ]
        }
    )

    assert isinstance(message, ToolCallParsed)
    assert [(call.id, call.name, call.arguments) for call in message.calls] == [
        ("a", "one", "{}"),
        ("b", "two", '{"x":1}'),
    ]


def test_tool_call_parse_failure_parses() -> None:
    assert parsed({"ToolCallParseFailed": "bad markup"}) == ToolCallParseFailed("bad markup")


def test_tool_call_validation_failure_keeps_every_message() -> None:
    errors = [
        'unknown tool name "x"',
        'arguments for tool "y" failed schema check: 42 is not of type "string"',
    ]

    assert parsed({"ToolCallValidationFailed": errors}) == ToolCallValidationFailed(tuple(errors))


def test_unrecognized_tool_call_format_parses_both_fields() -> None:
    message = parsed(
        {
            "UnrecognizedToolCallFormat": {
                "text": "<weird>x</weird>",
                "ffi_error_message": "common_chat_parse failed",
            }
        }
    )

    assert message == UnrecognizedToolCallFormat("<weird>x</weird>", "common_chat_parse failed")


def test_done_carries_all_eight_usage_counters() -> None:
    assert parsed({"Done": {"usage": USAGE_JSON}}) == Done(TokenUsage(**USAGE_JSON))


def test_done_without_a_counter_is_a_protocol_error() -> None:
    usage = {key: value for key, value in USAGE_JSON.items() if key != "tool_call_tokens"}

    with pytest.raises(UpstreamProtocolError):
        parsed({"Done": {"usage": usage}})


@pytest.mark.parametrize("kind", sorted(STRING_ERROR_KINDS))
def test_every_terminal_error_variant_parses_with_its_text(kind: str) -> None:
    assert parsed({kind: "something broke"}) == GenerationError(kind, "something broke")  # type: ignore[arg-type]


def test_image_exceeds_batch_size_explains_the_numbers() -> None:
    message = parsed({"ImageExceedsBatchSize": {"image_tokens": 368, "n_batch": 100}})

    assert message == GenerationError(
        "ImageExceedsBatchSize",
        "image required 368 tokens but agent n_batch is 100; rerun with a larger n_batch",
        image_tokens=368,
        n_batch=100,
    )


@pytest.mark.parametrize(
    ("unit", "text"),
    [("Timeout", "Inference timed out"), ("TooManyBufferedRequests", "Buffered requests overflow")],
)
def test_legacy_unit_responses_parse_as_terminal_errors(unit: str, text: str) -> None:
    line = json.dumps({"Response": {"generated_by": None, "request_id": REQUEST_ID, "response": unit}})

    message = parse_line(line).message

    assert message == GenerationError(unit, text)  # type: ignore[arg-type]
    assert is_terminal(message)


def test_an_error_envelope_parses_code_description_and_request_id() -> None:
    line = parse_line('{"Error":{"request_id":"Lm3","error":{"code":503,"description":"Buffered requests overflow"}}}')

    assert line == PaddlerLine(ErrorEnvelope(503, "Buffered requests overflow"), request_id="Lm3")


@pytest.mark.parametrize(
    "line",
    [
        response_line({"BrandNewToken": "x"}),
        '{"Notification":"TokenGenerationDisabled"}',
        json.dumps({"Response": {"generated_by": None, "request_id": "r", "response": {"Embedding": {}}}}),
        json.dumps({"Response": {"generated_by": None, "request_id": "r", "response": "SomethingElse"}}),
        '{"Error":{"request_id":"r","error":{"code":"503"}}}',
        "[1, 2]",
        "not json",
    ],
    ids=[
        "unknown-variant",
        "notification",
        "embedding",
        "unknown-unit",
        "bad-envelope",
        "array",
        "not-json",
    ],
)
def test_anything_unknown_is_a_protocol_error(line: str) -> None:
    with pytest.raises(UpstreamProtocolError):
        parse_line(line)


@pytest.mark.parametrize(
    ("message", "terminal"),
    [
        (ContentToken("a"), False),
        (ReasoningToken("a"), False),
        (ToolCallToken("a"), False),
        (UndeterminableToken("a"), False),
        (ToolCallParsed(()), False),
        (ToolCallParseFailed("a"), False),
        (ToolCallValidationFailed(("a",)), False),
        (UnrecognizedToolCallFormat("a", "b"), False),
        (Done(TokenUsage()), True),
        (GenerationError("ChatTemplateError", "a"), True),
        (ErrorEnvelope(502, "a"), True),
    ],
)
def test_only_done_generation_errors_and_error_envelopes_are_terminal(message: PaddlerMessage, terminal: bool) -> None:
    assert is_terminal(message) is terminal


ROUND_TRIP_MESSAGES: list[PaddlerMessage] = [
    ContentToken('Hello "world" ü\n'),
    ReasoningToken("think"),
    ToolCallToken('{"name": "f"'),
    UndeterminableToken("?"),
    ToolCallParsed(
        (
            ParsedToolCall("call_1", "get_weather", '{"city":"Paris"}', True),
            ParsedToolCall("call_2", "get_weather", '{"city": "Par', False),
        )
    ),
    ToolCallParseFailed("bad"),
    ToolCallValidationFailed(("one", "two")),
    UnrecognizedToolCallFormat("text", "ffi"),
    Done(TokenUsage(**USAGE_JSON)),
    GenerationError("GrammarSyntaxError", "bad schema"),
    GenerationError(
        "ImageExceedsBatchSize",
        "image required 368 tokens but agent n_batch is 100; rerun with a larger n_batch",
        image_tokens=368,
        n_batch=100,
    ),
    GenerationError("Timeout", "Inference timed out"),
    GenerationError("TooManyBufferedRequests", "Buffered requests overflow"),
    ErrorEnvelope(504, "Waiting for available slot timed out"),
]


@pytest.mark.parametrize("message", ROUND_TRIP_MESSAGES, ids=lambda message: type(message).__name__)
def test_parsing_an_encoded_line_gives_the_line_back(message: PaddlerMessage) -> None:
    generated_by = None if isinstance(message, ErrorEnvelope) else "agent-1"
    line = PaddlerLine(message, request_id=REQUEST_ID, generated_by=generated_by)

    assert parse_line(encode_line(line)) == line


@pytest.mark.parametrize(
    "text",
    [
        '{"Response":{"generated_by":"gpu-box-1","request_id":"Xy7_fQ2kLm0pRt5sVw9zA","response":{"GeneratedToken":{"ReasoningToken":"The"}}}}',
        '{"Response":{"generated_by":"gpu-box-1","request_id":"Kq1","response":{"GeneratedToken":{"ToolCallParsed":[{"id":"call_a81","name":"get_weather","arguments":{"ValidJson":{"city":"Paris"}}}]}}}}',
        '{"Response":{"generated_by":"gpu-box-1","request_id":"Xy7_fQ2kLm0pRt5sVw9zA","response":{"GeneratedToken":{"Done":{"usage":{"prompt_tokens":14,"cached_prompt_tokens":0,"input_image_tokens":0,"input_audio_tokens":0,"content_tokens":4,"reasoning_tokens":33,"tool_call_tokens":0,"undeterminable_tokens":0}}}}}}',
        '{"Error":{"request_id":"Lm3","error":{"code":503,"description":"Buffered requests overflow"}}}',
        '{"Response":{"generated_by":"gpu-box-1","request_id":"Qw9","response":{"GeneratedToken":{"GrammarIncompatibleWithThinking":"Grammar constraints are incompatible with thinking mode"}}}}',
    ],
    ids=["reasoning", "tool-call", "done", "error-envelope", "terminal-error"],
)
def test_encoding_a_parsed_reference_line_writes_the_same_bytes(text: str) -> None:
    assert encode_line(parse_line(text)) == text.encode() + b"\n"


@pytest.mark.parametrize(
    ("raw", "text"),
    [
        (b"a\\ud83d b", "a\ufffd b"),  # a lone high half, escaped
        (b"\\ude00!", "\ufffd!"),  # a lone low half
        (b"\\ud83d\\ude00", "\U0001f600"),  # a pair stays its character
        (b"\xed\xa0\xbd\xed\xb8\x80", "\U0001f600"),  # CESU-8: the pair joined
        (b"\xed\xa0\xbd", "\ufffd"),  # CESU-8: a lone half
        ("한국어".encode(), "한국어"),  # Hangul shares the 0xED lead byte: left alone
    ],
)
def test_a_lone_surrogate_from_upstream_becomes_a_replacement_character(raw: bytes, text: str) -> None:
    line = b'{"Response":{"generated_by":"a","request_id":"r","response":{"GeneratedToken":{"ContentToken":"%s"}}}}'
    message = parse_line(line % raw).message
    assert message == ContentToken(text)
    assert isinstance(message, ContentToken)
    message.text.encode("utf-8")  # what every chunk, event and record does with it


_TOKEN_TYPES = (ContentToken, ReasoningToken, ToolCallToken, UndeterminableToken)


def _outcome(parse: Any, line: bytes) -> PaddlerLine | str:
    try:
        parsed: PaddlerLine = parse(line)
    except UpstreamProtocolError:
        return "refused"
    return parsed


@settings(max_examples=400, deadline=None)
@given(
    kind=st.sampled_from(_TOKEN_TYPES),
    text=st.text(),
    request_id=st.text(max_size=30),
    generated_by=st.none() | st.text(max_size=20),
)
def test_a_token_line_reads_the_same_whatever_its_text(
    kind: type[ContentToken], text: str, request_id: str, generated_by: str | None
) -> None:
    # Plain token lines take a fast path; lines with escapes, quotes or control characters
    # the JSON parse. Either way the line reads back as what was written.
    line = PaddlerLine(kind(text), request_id=request_id, generated_by=generated_by)
    assert parse_line(encode_line(line).rstrip(b"\n")) == line


@settings(max_examples=400, deadline=None)
@given(
    position=st.integers(min_value=0, max_value=200),
    inserted=st.binary(min_size=0, max_size=3),
    removed=st.integers(min_value=0, max_value=3),
    kind=st.sampled_from(_TOKEN_TYPES),
    text=st.text(alphabet='ab é"\\\x01{}:,', max_size=10),
)
def test_a_damaged_token_line_is_judged_as_the_json_parse_judges_it(
    position: int, inserted: bytes, removed: int, kind: type[ContentToken], text: str
) -> None:
    line = encode_line(PaddlerLine(kind(text), request_id=REQUEST_ID, generated_by="gpu-box-1")).rstrip(b"\n")
    damaged = line[:position] + inserted + line[position + removed :]
    assert _outcome(parse_line, damaged) == _outcome(parse_json_line, damaged)
