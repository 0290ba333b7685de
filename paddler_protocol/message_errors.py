"""Which Paddler messages stand for a failure, as the exception the API layer raises for them."""

from __future__ import annotations

from typing import assert_never

from paddler_protocol.errors import (
    GenerationFailed,
    ToolCallFailed,
    UpstreamError,
    UpstreamErrorReply,
)
from paddler_protocol.paddler_message import (
    ContentToken,
    Done,
    ErrorEnvelope,
    GenerationError,
    PaddlerMessage,
    ReasoningToken,
    ToolCallParsed,
    ToolCallParseFailed,
    ToolCallToken,
    ToolCallValidationFailed,
    UndeterminableToken,
    UnrecognizedToolCallFormat,
)


def error_for_message(message: PaddlerMessage) -> UpstreamError | None:
    """The exception ``message`` stands for, or ``None`` when it is not an error."""
    match message:
        # Tokens first: they are nearly every line of a stream.
        case ContentToken() | ReasoningToken() | ToolCallToken() | UndeterminableToken():
            return None
        case ToolCallParsed() | Done():
            return None
        case ErrorEnvelope(code=code, description=description):
            return UpstreamErrorReply(code, description)
        case GenerationError(kind=kind, message=text):
            return GenerationFailed(kind, text)
        case ToolCallParseFailed(message=text):
            return ToolCallFailed(text)
        case ToolCallValidationFailed(messages=messages):
            # Paddler's compat layer reports the first validation error only.
            return ToolCallFailed(messages[0] if messages else "Tool call validation failed.")
        case UnrecognizedToolCallFormat(text=text, ffi_error_message=ffi_error_message):
            return ToolCallFailed(f"{ffi_error_message}: {text}")
        case _:
            assert_never(message)
