"""The one table from exceptions to OpenAI error responses (wire-format reference 8).

Every error a client sees — before the first byte as an HTTP response, after it in-band as a
chat ``data: {"error": ...}`` line or a Responses ``error`` event — is described here.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import Any

from django.http import Http404
from rest_framework import exceptions as drf

from accounts.errors import (
    AdmissionUnavailable,
    ApiKeyError,
    BudgetExhausted,
    ModelNotAllowed,
    RateLimited,
)
from compat_api.errors import InvalidRequest, NotFoundError, PayloadTooLarge
from foundation.errors import OarlockError
from inference.errors import (
    LocalEngineUnavailable,
    ModelNotFound,
    UpstreamRejected,
    UpstreamTimeout,
    UpstreamUnavailable,
)
from paddler_protocol.errors import (
    GenerationFailed,
    ToolCallFailed,
    UpstreamErrorReply,
    UpstreamProtocolError,
)

logger = logging.getLogger(__name__)

# Paddler refuses these before generating: the request, not the server, is at fault.
CLIENT_FAULT_GENERATION_KINDS = frozenset(
    {
        "ChatTemplateError",
        "GrammarIncompatibleWithThinking",
        "GrammarInitializationFailed",
        "GrammarSyntaxError",
        "ImageDecodingFailed",
        "ImageExceedsBatchSize",
        "MultimodalNotSupported",
        "ToolSchemaInvalid",
    }
)

SERVER_ERROR_MESSAGE = "The server had an error while processing your request. Sorry about that!"


@dataclass(frozen=True, slots=True)
class ErrorDescription:
    status: int
    type: str
    message: str
    param: str | None = None
    code: str | None = None
    headers: dict[str, str] = field(default_factory=dict)

    @property
    def error_class(self) -> str:
        """A short label for logs and usage records."""
        return self.code or self.type


def error_body(description: ErrorDescription) -> dict[str, Any]:
    return {
        "error": {
            "message": description.message,
            "type": description.type,
            "param": description.param,
            "code": description.code,
        }
    }


def describe_error(exc: BaseException) -> ErrorDescription:
    match exc:
        case InvalidRequest():
            return ErrorDescription(400, "invalid_request_error", exc.message, exc.param, exc.code)
        case PayloadTooLarge():
            return ErrorDescription(413, "invalid_request_error", exc.message, exc.param, "request_too_large")
        case NotFoundError():
            return ErrorDescription(404, "invalid_request_error", exc.message, exc.param, exc.code)
        case ModelNotFound():
            return ErrorDescription(404, "invalid_request_error", exc.message, "model", "model_not_found")
        case ApiKeyError():
            return ErrorDescription(401, "invalid_request_error", exc.message, None, "invalid_api_key")
        case ModelNotAllowed():
            return ErrorDescription(403, "invalid_request_error", exc.message, "model", "model_not_allowed")
        case BudgetExhausted():
            return ErrorDescription(
                429,
                "insufficient_quota",
                exc.message,
                None,
                "insufficient_quota",
                {"x-should-retry": "false"},
            )
        case RateLimited():
            return ErrorDescription(
                429,
                exc.limit_kind,
                exc.message,
                None,
                "rate_limit_exceeded",
                {"retry-after": str(max(1, round(exc.retry_after + 0.49))), **exc.headers},
            )
        case AdmissionUnavailable():
            return ErrorDescription(
                503, "server_error", exc.message, None, "admission_unavailable", {"retry-after": "1"}
            )
        case UpstreamErrorReply():
            return _describe_error_reply(exc)
        case GenerationFailed():
            return _describe_generation_failure(exc)
        case ToolCallFailed():
            return ErrorDescription(500, "server_error", exc.message, None, "tool_call_failed")
        case UpstreamRejected():
            return _describe_rejection(exc)
        case UpstreamTimeout():
            return ErrorDescription(504, "timeout", exc.message)
        case LocalEngineUnavailable():
            # Down for a restart, back within seconds: a retry will most likely succeed.
            return ErrorDescription(
                503, "server_error", exc.message, None, "local_engine_unavailable", {"retry-after": "5"}
            )
        case UpstreamUnavailable() | UpstreamProtocolError():
            return ErrorDescription(502, "server_error", exc.message)
        case OarlockError():
            return ErrorDescription(400, "invalid_request_error", exc.message, exc.param)
        case drf.APIException():
            return _describe_drf_exception(exc)
        case Http404():
            return ErrorDescription(404, "invalid_request_error", str(exc) or "Not found.")
    return ErrorDescription(500, "server_error", SERVER_ERROR_MESSAGE)


def _describe_error_reply(exc: UpstreamErrorReply) -> ErrorDescription:
    if exc.code == 503:
        return ErrorDescription(503, "server_error", exc.description, headers={"retry-after": "1"})
    if exc.code == 504:
        return ErrorDescription(504, "timeout", exc.description)
    if exc.code == 400:
        return ErrorDescription(400, "invalid_request_error", exc.description)
    if exc.code == 502:
        return ErrorDescription(502, "server_error", exc.description)
    return ErrorDescription(500, "server_error", exc.description)


def _describe_generation_failure(exc: GenerationFailed) -> ErrorDescription:
    if exc.kind in CLIENT_FAULT_GENERATION_KINDS:
        return ErrorDescription(400, "invalid_request_error", exc.message)
    if exc.kind == "TokenGenerationDisabled":
        return ErrorDescription(501, "server_error", exc.message)
    if exc.kind == "TooManyBufferedRequests":
        return ErrorDescription(503, "server_error", exc.message, headers={"retry-after": "1"})
    if exc.kind == "Timeout":
        return ErrorDescription(504, "timeout", exc.message)
    return ErrorDescription(500, "server_error", exc.message)


@dataclass(frozen=True, slots=True)
class PaddlerRefusal:
    """One row of the table below: a refusal Paddler answers before streaming (protocol
    reference 1.1), whose fault it is, and what the client is told."""

    status: int
    text_prefix: str
    client_fault: bool
    answer_status: int
    code: str | None = None


# Which of Paddler's plain-text refusals can be the client's fault. Oarlock validates every
# part of what it forwards to the shape Paddler's request types accept (compat_api/*
# request_schema.py, forwarded_schemas.py, sendable_json.py), so a body Paddler cannot
# *deserialize* is a body Oarlock built wrongly: a gateway fault, 502. What depends on the
# client's content and nothing else — the tool's required names, the body's size — stays the
# client's. The first matching row wins; an unlisted refusal is a 502.
PADDLER_REFUSALS: tuple[PaddlerRefusal, ...] = (
    PaddlerRefusal(400, "Invalid request parameters:", client_fault=True, answer_status=400),
    PaddlerRefusal(413, "", client_fault=True, answer_status=413, code="request_too_large"),
    PaddlerRefusal(400, "Json deserialize error:", client_fault=False, answer_status=502),
    PaddlerRefusal(400, "Content type error", client_fault=False, answer_status=502),
    PaddlerRefusal(501, "", client_fault=False, answer_status=501),
)

GATEWAY_REFUSAL_MESSAGE = (
    "The inference upstream refused the request this gateway built from yours ({detail}). "
    "This is a fault of the gateway, not of your request; please report it."
)


def paddler_refusal_row(status: int, body: str) -> PaddlerRefusal | None:
    for row in PADDLER_REFUSALS:
        if row.status == status and body.startswith(row.text_prefix):
            return row
    return None


def _describe_rejection(exc: UpstreamRejected) -> ErrorDescription:
    row = paddler_refusal_row(exc.status, exc.body)
    if row is not None and row.client_fault:
        return ErrorDescription(row.answer_status, "invalid_request_error", exc.body or exc.message, None, row.code)
    if row is not None and row.answer_status == 501:
        return ErrorDescription(501, "server_error", exc.body or exc.message)
    detail = f"{exc.status}: {exc.body[:300]}" if exc.body else str(exc.status)
    return ErrorDescription(
        502, "server_error", GATEWAY_REFUSAL_MESSAGE.format(detail=detail), None, "upstream_refused"
    )


_DRF_CODES = {
    "required": "missing_required_parameter",
    "null": "invalid_type",
    "invalid": "invalid_type",
    "not_a_list": "invalid_type",
    "not_a_dict": "invalid_type",
}


def _describe_drf_exception(exc: drf.APIException) -> ErrorDescription:
    if isinstance(exc, drf.ValidationError):
        param, message, code = first_validation_error(exc.detail)
        return ErrorDescription(400, "invalid_request_error", message, param, _DRF_CODES.get(code, "invalid_value"))
    if isinstance(exc, drf.ParseError):
        return ErrorDescription(
            400,
            "invalid_request_error",
            "We could not parse the JSON body of your request. (HINT: This likely means you aren't "
            "using your HTTP library correctly. The OpenAI API expects a JSON payload.)",
        )
    if isinstance(exc, drf.UnsupportedMediaType):
        return ErrorDescription(
            400,
            "invalid_request_error",
            f"Invalid Content-Type header ({exc.detail}); the request body must be application/json.",
        )
    if isinstance(exc, (drf.NotAuthenticated, drf.AuthenticationFailed)):
        return ErrorDescription(401, "invalid_request_error", str(exc.detail), None, "invalid_api_key")
    if isinstance(exc, drf.PermissionDenied):
        return ErrorDescription(403, "invalid_request_error", str(exc.detail))
    if isinstance(exc, drf.NotFound):
        return ErrorDescription(404, "invalid_request_error", str(exc.detail))
    if isinstance(exc, drf.MethodNotAllowed):
        return ErrorDescription(405, "invalid_request_error", str(exc.detail))
    if isinstance(exc, drf.Throttled):
        wait = exc.wait or 1  # type: ignore[attr-defined]  # set by Throttled.__init__; the stubs omit it
        return ErrorDescription(
            429,
            "requests",
            str(exc.detail),
            None,
            "rate_limit_exceeded",
            {"retry-after": str(max(1, round(wait)))},
        )
    return ErrorDescription(exc.status_code, "invalid_request_error", str(exc.detail))


def first_validation_error(detail: Any, path: str = "") -> tuple[str | None, str, str]:
    """The dotted OpenAI ``param`` path, message and DRF code of the first error in ``detail``."""
    if isinstance(detail, dict):
        for key, value in detail.items():
            if key in ("non_field_errors", "__all__"):
                return first_validation_error(value, path)
            segment = f"[{key}]" if isinstance(key, int) or str(key).isdigit() else (f".{key}" if path else str(key))
            return first_validation_error(value, path + segment)
    if isinstance(detail, list):
        for index, value in enumerate(detail):
            if isinstance(value, (dict, list)) and value:
                # A list of nested errors (ListSerializer): the first non-empty one names the index.
                if isinstance(value, dict):
                    return first_validation_error(value, f"{path}[{index}]")
                return first_validation_error(value, path)
            if value:
                return path or None, str(value), getattr(value, "code", "invalid") or "invalid"
    if detail:
        return path or None, str(detail), getattr(detail, "code", "invalid") or "invalid"
    return path or None, "Invalid request.", "invalid"
