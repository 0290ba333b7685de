"""Which Paddler messages are failures, and the exception each one becomes."""

from __future__ import annotations

import pytest

from paddler_protocol.errors import GenerationFailed, ToolCallFailed, UpstreamErrorReply
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


@pytest.mark.parametrize(
    "message",
    [
        ContentToken("a"),
        ReasoningToken("a"),
        ToolCallToken("a"),
        UndeterminableToken("a"),
        ToolCallParsed((ParsedToolCall("call_1", "f", "{}"),)),
        Done(TokenUsage()),
    ],
    ids=lambda message: type(message).__name__,
)
def test_tokens_tool_calls_and_done_are_not_errors(message: PaddlerMessage) -> None:
    assert error_for_message(message) is None


def test_an_error_envelope_becomes_an_error_reply_with_its_code() -> None:
    error = error_for_message(ErrorEnvelope(503, "Buffered requests overflow"))

    assert isinstance(error, UpstreamErrorReply)
    assert (error.code, error.description, error.message) == (
        503,
        "Buffered requests overflow",
        "Buffered requests overflow",
    )


def test_a_terminal_error_variant_becomes_generation_failed_with_its_kind() -> None:
    error = error_for_message(GenerationError("ChatTemplateError", "undefined value"))

    assert isinstance(error, GenerationFailed)
    assert (error.kind, error.message) == ("ChatTemplateError", "undefined value")


def test_a_tool_call_parse_failure_becomes_tool_call_failed() -> None:
    error = error_for_message(ToolCallParseFailed("bad markup"))

    assert isinstance(error, ToolCallFailed)
    assert error.message == "bad markup"


def test_a_tool_call_validation_failure_reports_its_first_message() -> None:
    error = error_for_message(ToolCallValidationFailed(('unknown tool name "x"', "second")))

    assert isinstance(error, ToolCallFailed)
    assert error.message == 'unknown tool name "x"'


def test_an_unrecognized_tool_call_format_reports_the_ffi_error_then_the_text() -> None:
    error = error_for_message(UnrecognizedToolCallFormat("<weird>x</weird>", "common_chat_parse failed"))

    assert isinstance(error, ToolCallFailed)
    assert error.message == "common_chat_parse failed: <weird>x</weird>"
