"""Every message Paddler's inference service writes as one NDJSON line (protocol reference 1.5, 1.6).

A line is parsed once, here, into a ``PaddlerLine`` carrying one typed message. Code downstream
``match``es on the message type and ends with ``assert_never``; a variant we do not know is an
``UpstreamProtocolError``, never a silent drop. ``encode_line`` is the inverse, used by the
local engine and the fake Paddler so that both write exactly what they are tested to parse.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import Any, Literal, TypeAlias

from foundation.compact_json import compact_json
from paddler_protocol.errors import UpstreamProtocolError
from paddler_protocol.lone_surrogates import may_hold_lone_surrogates, without_lone_surrogates
from paddler_protocol.token_usage import TokenUsage

# --- the four token kinds (non-terminal) ---------------------------------------------------


@dataclass(frozen=True, slots=True)
class ContentToken:
    text: str


@dataclass(frozen=True, slots=True)
class ReasoningToken:
    text: str


@dataclass(frozen=True, slots=True)
class ToolCallToken:
    text: str


@dataclass(frozen=True, slots=True)
class UndeterminableToken:
    text: str


# --- tool calls -------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class ParsedToolCall:
    """One call from a ``ToolCallParsed`` batch.

    ``arguments`` is the text OpenAI clients receive: compact JSON for ``ValidJson`` arguments,
    the raw model text for ``InvalidJson`` ones (``arguments_valid`` tells which).
    """

    id: str
    name: str
    arguments: str
    arguments_valid: bool = True


@dataclass(frozen=True, slots=True)
class ToolCallParsed:
    calls: tuple[ParsedToolCall, ...]


@dataclass(frozen=True, slots=True)
class ToolCallParseFailed:
    """Non-terminal: generation continues after it."""

    message: str


@dataclass(frozen=True, slots=True)
class ToolCallValidationFailed:
    """Non-terminal: generation continues after it."""

    messages: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class UnrecognizedToolCallFormat:
    """Non-terminal: generation continues after it."""

    text: str
    ffi_error_message: str


# --- terminal ---------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Done:
    usage: TokenUsage


GenerationErrorKind: TypeAlias = Literal[
    "ChatTemplateError",
    "DetokenizationFailed",
    "GrammarIncompatibleWithThinking",
    "GrammarInitializationFailed",
    "GrammarRejectedModelOutput",
    "GrammarSyntaxError",
    "ImageDecodingFailed",
    "ImageExceedsBatchSize",
    "MultimodalNotSupported",
    "SamplerError",
    "TokenGenerationDisabled",
    "ToolSchemaInvalid",
    # Legacy unit responses: no longer produced by the balancer, still mapped (reference 8.29).
    "Timeout",
    "TooManyBufferedRequests",
]

STRING_ERROR_KINDS: frozenset[str] = frozenset(
    {
        "ChatTemplateError",
        "DetokenizationFailed",
        "GrammarIncompatibleWithThinking",
        "GrammarInitializationFailed",
        "GrammarRejectedModelOutput",
        "GrammarSyntaxError",
        "ImageDecodingFailed",
        "MultimodalNotSupported",
        "SamplerError",
        "TokenGenerationDisabled",
        "ToolSchemaInvalid",
    }
)


@dataclass(frozen=True, slots=True)
class GenerationError:
    """A terminal error variant of ``GeneratedTokenResult`` (or a legacy unit response)."""

    kind: GenerationErrorKind
    message: str
    # Only for ImageExceedsBatchSize: the original payload, so it can be written back verbatim.
    image_tokens: int | None = None
    n_batch: int | None = None


@dataclass(frozen=True, slots=True)
class ErrorEnvelope:
    """``{"Error": {...}}``: a balancer-side failure with a JSON-RPC-style code. Always terminal."""

    code: int
    description: str


PaddlerMessage: TypeAlias = (
    ContentToken
    | ReasoningToken
    | ToolCallToken
    | UndeterminableToken
    | ToolCallParsed
    | ToolCallParseFailed
    | ToolCallValidationFailed
    | UnrecognizedToolCallFormat
    | Done
    | GenerationError
    | ErrorEnvelope
)

TOKEN_MESSAGE_TYPES = (ContentToken, ReasoningToken, ToolCallToken, UndeterminableToken)
TERMINAL_MESSAGE_TYPES = (Done, GenerationError, ErrorEnvelope)


def is_terminal(message: PaddlerMessage) -> bool:
    return isinstance(message, TERMINAL_MESSAGE_TYPES)


@dataclass(frozen=True, slots=True)
class PaddlerLine:
    """One NDJSON line: the message plus the envelope that carried it."""

    message: PaddlerMessage
    request_id: str = ""
    generated_by: str | None = None


# --- parsing ----------------------------------------------------------------------------

_TOKEN_KINDS: dict[str, type[ContentToken | ReasoningToken | ToolCallToken | UndeterminableToken]] = {
    "ContentToken": ContentToken,
    "ReasoningToken": ReasoningToken,
    "ToolCallToken": ToolCallToken,
    "UndeterminableToken": UndeterminableToken,
}


# A token line exactly as Paddler writes it (serde_json: compact, fields in declaration order)
# whose strings hold no escape and no control character: almost every line of a stream. Such a
# line is read with one match instead of a JSON decode and a walk of four nested objects
# (parsing was the largest part of relaying a token). Any other line, and any byte sequence
# that is not UTF-8, takes the full parse below, which decides exactly as before.
_PLAIN_STRING = rb'"([^"\\\x00-\x1f]*)"'
_TOKEN_LINE = re.compile(
    rb'\{"Response":\{"generated_by":(?:'
    + _PLAIN_STRING
    + rb'|null),"request_id":'
    + _PLAIN_STRING
    + rb',"response":\{"GeneratedToken":\{"(ContentToken|ReasoningToken|ToolCallToken|UndeterminableToken)":'
    + _PLAIN_STRING
    + rb"\}\}\}\}"
)


def parse_line(line: str | bytes) -> PaddlerLine:
    """Parse one non-blank NDJSON line. Raises ``UpstreamProtocolError`` on anything unknown."""
    if isinstance(line, bytes) and (match := _TOKEN_LINE.fullmatch(line)) is not None:
        try:
            generated_by, request_id, variant, text = (
                None if part is None else part.decode() for part in match.groups()
            )
        except UnicodeDecodeError:
            pass  # the full parse reports it
        else:
            assert request_id is not None and variant is not None and text is not None
            return PaddlerLine(_TOKEN_KINDS[variant](text), request_id=request_id, generated_by=generated_by)
    return parse_json_line(line)


def parse_json_line(line: str | bytes) -> PaddlerLine:
    """``parse_line`` without the fast path for plain token lines: every line as JSON."""
    try:
        document = json.loads(line)
        if may_hold_lone_surrogates(line):
            document = without_lone_surrogates(document)
    except (ValueError, UnicodeDecodeError, RecursionError) as error:
        raise UpstreamProtocolError(f"Upstream sent a line that is not JSON: {error}") from error
    if not isinstance(document, dict) or len(document) != 1:
        raise UpstreamProtocolError("Upstream line is not a single-key object")
    ((tag, body),) = document.items()
    if tag == "Error":
        return _parse_error_envelope(body)
    if tag == "Response":
        return _parse_response_envelope(body)
    raise UpstreamProtocolError(f"Unknown upstream message {tag!r}")


def _parse_error_envelope(body: Any) -> PaddlerLine:
    error = _object(body, "Error").get("error")
    error = _object(error, "Error.error")
    code, description = error.get("code"), error.get("description")
    if not isinstance(code, int) or not isinstance(description, str):
        raise UpstreamProtocolError("Error envelope without code and description")
    return PaddlerLine(ErrorEnvelope(code, description), request_id=str(body.get("request_id", "")))


def _parse_response_envelope(body: Any) -> PaddlerLine:
    body = _object(body, "Response")
    generated_by = body.get("generated_by")
    request_id = str(body.get("request_id", ""))
    response = body.get("response")
    if response in ("Timeout", "TooManyBufferedRequests"):
        message: PaddlerMessage = GenerationError(response, _LEGACY_MESSAGES[response])
    else:
        response = _object(response, "Response.response")
        if set(response) != {"GeneratedToken"}:
            raise UpstreamProtocolError(f"Unexpected response kind {sorted(response)!r}")
        message = _parse_generated_token(response["GeneratedToken"])
    return PaddlerLine(
        message,
        request_id=request_id,
        generated_by=generated_by if isinstance(generated_by, str) else None,
    )


_LEGACY_MESSAGES = {
    "Timeout": "Inference timed out",
    "TooManyBufferedRequests": "Buffered requests overflow",
}


def _parse_generated_token(result: Any) -> PaddlerMessage:
    result = _object(result, "GeneratedToken")
    if len(result) != 1:
        raise UpstreamProtocolError("GeneratedToken is not a single-variant object")
    ((variant, payload),) = result.items()
    if variant in _TOKEN_KINDS:
        return _TOKEN_KINDS[variant](_string(payload, variant))
    if variant == "Done":
        return Done(TokenUsage.from_json(_object(payload, "Done").get("usage")))
    if variant == "ToolCallParsed":
        if not isinstance(payload, list):
            raise UpstreamProtocolError("ToolCallParsed is not a list")
        return ToolCallParsed(tuple(_parse_tool_call(call) for call in payload))
    if variant == "ToolCallParseFailed":
        return ToolCallParseFailed(_string(payload, variant))
    if variant == "ToolCallValidationFailed":
        if not isinstance(payload, list) or not all(isinstance(m, str) for m in payload):
            raise UpstreamProtocolError("ToolCallValidationFailed is not a list of strings")
        return ToolCallValidationFailed(tuple(payload))
    if variant == "UnrecognizedToolCallFormat":
        payload = _object(payload, variant)
        return UnrecognizedToolCallFormat(
            _string(payload.get("text"), f"{variant}.text"),
            _string(payload.get("ffi_error_message"), f"{variant}.ffi_error_message"),
        )
    if variant == "ImageExceedsBatchSize":
        payload = _object(payload, variant)
        image_tokens, n_batch = payload.get("image_tokens"), payload.get("n_batch")
        if not isinstance(image_tokens, int) or not isinstance(n_batch, int):
            raise UpstreamProtocolError("ImageExceedsBatchSize without image_tokens and n_batch")
        return GenerationError(
            "ImageExceedsBatchSize",
            f"image required {image_tokens} tokens but agent n_batch is {n_batch}; rerun with a larger n_batch",
            image_tokens=image_tokens,
            n_batch=n_batch,
        )
    if variant in STRING_ERROR_KINDS:
        return GenerationError(variant, _string(payload, variant))
    raise UpstreamProtocolError(f"Unknown GeneratedToken variant {variant!r}")


def _parse_tool_call(call: Any) -> ParsedToolCall:
    call = _object(call, "ParsedToolCall")
    arguments = _object(call.get("arguments"), "ParsedToolCall.arguments")
    if "ValidJson" in arguments and len(arguments) == 1:
        text = compact_json(arguments["ValidJson"])
        valid = True
    elif "InvalidJson" in arguments and len(arguments) == 1:
        text, valid = _string(arguments["InvalidJson"], "InvalidJson"), False
    else:
        raise UpstreamProtocolError("ParsedToolCall.arguments is neither ValidJson nor InvalidJson")
    return ParsedToolCall(
        id=_string(call.get("id", ""), "ParsedToolCall.id"),
        name=_string(call.get("name"), "ParsedToolCall.name"),
        arguments=text,
        arguments_valid=valid,
    )


def _object(value: Any, where: str) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise UpstreamProtocolError(f"{where} is not an object")
    return value


def _string(value: Any, where: str) -> str:
    if not isinstance(value, str):
        raise UpstreamProtocolError(f"{where} is not a string")
    return value


# --- encoding (local engine, fake Paddler) -----------------------------------------------


def encode_line(line: PaddlerLine) -> bytes:
    """The exact NDJSON line Paddler writes for ``line``, ``\\n`` included."""
    message = line.message
    if isinstance(message, ErrorEnvelope):
        document: dict[str, Any] = {
            "Error": {
                "request_id": line.request_id,
                "error": {"code": message.code, "description": message.description},
            }
        }
    else:
        response: Any
        if isinstance(message, GenerationError) and message.kind in _LEGACY_MESSAGES:
            response = message.kind
        else:
            response = {"GeneratedToken": _generated_token_json(message)}
        document = {
            "Response": {
                "generated_by": line.generated_by,
                "request_id": line.request_id,
                "response": response,
            }
        }
    return compact_json(document).encode() + b"\n"


def _generated_token_json(message: PaddlerMessage) -> dict[str, Any]:
    match message:
        case ContentToken(text):
            return {"ContentToken": text}
        case ReasoningToken(text):
            return {"ReasoningToken": text}
        case ToolCallToken(text):
            return {"ToolCallToken": text}
        case UndeterminableToken(text):
            return {"UndeterminableToken": text}
        case ToolCallParsed(calls):
            return {"ToolCallParsed": [_tool_call_json(call) for call in calls]}
        case ToolCallParseFailed(text):
            return {"ToolCallParseFailed": text}
        case ToolCallValidationFailed(messages):
            return {"ToolCallValidationFailed": list(messages)}
        case UnrecognizedToolCallFormat(text, ffi_error_message):
            return {"UnrecognizedToolCallFormat": {"text": text, "ffi_error_message": ffi_error_message}}
        case Done(usage):
            return {"Done": {"usage": usage.to_json()}}
        case GenerationError(kind="ImageExceedsBatchSize", image_tokens=tokens, n_batch=n_batch):
            return {"ImageExceedsBatchSize": {"image_tokens": tokens or 0, "n_batch": n_batch or 0}}
        case GenerationError(kind, text):
            return {kind: text}
    raise TypeError(f"cannot encode {message!r} as a GeneratedToken")


def _tool_call_json(call: ParsedToolCall) -> dict[str, Any]:
    arguments: dict[str, Any]
    if call.arguments_valid:
        arguments = {"ValidJson": json.loads(call.arguments)}
    else:
        arguments = {"InvalidJson": call.arguments}
    return {"id": call.id, "name": call.name, "arguments": arguments}
