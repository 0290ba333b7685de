"""The exception → (status, type, code, headers) table, for the errors clients must tell apart."""

from __future__ import annotations

import pytest
from rest_framework import exceptions as drf
from rest_framework.exceptions import ErrorDetail

from accounts.errors import BudgetExhausted, InvalidApiKey, ModelNotAllowed, RateLimited
from compat_api.error_envelope import PADDLER_REFUSALS, describe_error, error_body
from compat_api.errors import InvalidRequest, PayloadTooLarge
from inference.errors import (
    LocalEngineStopped,
    LocalEngineUnavailable,
    ModelNotFound,
    UpstreamRejected,
    UpstreamTimeout,
    UpstreamUnavailable,
)
from paddler_protocol.errors import GenerationFailed, UpstreamErrorReply, UpstreamProtocolError


@pytest.mark.parametrize(
    ("exc", "status", "type_", "code"),
    [
        (UpstreamErrorReply(503, "Buffered requests overflow"), 503, "server_error", None),
        (UpstreamErrorReply(504, "Waiting for available slot timed out"), 504, "timeout", None),
        (UpstreamErrorReply(502, "Agent controller connection closed"), 502, "server_error", None),
        (UpstreamErrorReply(500, "Failed to generate response"), 500, "server_error", None),
        (UpstreamUnavailable(), 502, "server_error", None),
        (UpstreamProtocolError(), 502, "server_error", None),
        (LocalEngineUnavailable(), 503, "server_error", "local_engine_unavailable"),
        (LocalEngineStopped(), 502, "server_error", None),
        (UpstreamTimeout(), 504, "timeout", None),
        (UpstreamRejected(400, "Invalid request parameters: x"), 400, "invalid_request_error", None),
        (UpstreamRejected(501, "Token generation is disabled"), 501, "server_error", None),
        (
            UpstreamRejected(413, "JSON payload (3000000 bytes) is larger than allowed (limit: 2097152 bytes)."),
            413,
            "invalid_request_error",
            "request_too_large",
        ),
        (
            UpstreamRejected(400, "Json deserialize error: invalid type: map, expected a string"),
            502,
            "server_error",
            "upstream_refused",
        ),
        (UpstreamRejected(400, "Content type error"), 502, "server_error", "upstream_refused"),
        (UpstreamRejected(404, "Not Found"), 502, "server_error", "upstream_refused"),
        (GenerationFailed("ChatTemplateError", "bad template"), 400, "invalid_request_error", None),
        (GenerationFailed("GrammarIncompatibleWithThinking", "x"), 400, "invalid_request_error", None),
        (GenerationFailed("ToolSchemaInvalid", "x"), 400, "invalid_request_error", None),
        (GenerationFailed("SamplerError", "evicted"), 500, "server_error", None),
        (ModelNotFound("gpt-9"), 404, "invalid_request_error", "model_not_found"),
        (InvalidApiKey(), 401, "invalid_request_error", "invalid_api_key"),
        (ModelNotAllowed("qwen3"), 403, "invalid_request_error", "model_not_allowed"),
        (RateLimited("Rate limit reached", retry_after=1.5), 429, "requests", "rate_limit_exceeded"),
        (BudgetExhausted("Budget spent"), 429, "insufficient_quota", "insufficient_quota"),
        (InvalidRequest("bad", param="messages[0].content"), 400, "invalid_request_error", None),
        (PayloadTooLarge("too big"), 413, "invalid_request_error", "request_too_large"),
        (RuntimeError("boom"), 500, "server_error", None),
    ],
)
def test_each_error_maps_to_its_status_type_and_code(
    exc: BaseException, status: int, type_: str, code: str | None
) -> None:
    description = describe_error(exc)
    assert (description.status, description.type, description.code) == (status, type_, code)


def test_overflow_tells_clients_when_to_retry() -> None:
    assert describe_error(UpstreamErrorReply(503, "Buffered requests overflow")).headers == {"retry-after": "1"}


def test_a_local_engine_that_is_down_says_so_and_when_to_retry() -> None:
    description = describe_error(LocalEngineUnavailable())
    assert description.headers == {"retry-after": "5"}
    assert "local engine" in description.message


def test_rate_limits_round_retry_after_up_to_whole_seconds() -> None:
    assert describe_error(RateLimited("x", retry_after=1.5)).headers["retry-after"] == "2"
    assert describe_error(RateLimited("x", retry_after=0.1)).headers["retry-after"] == "1"


def test_quota_errors_tell_sdks_not_to_retry() -> None:
    assert describe_error(BudgetExhausted("x")).headers == {"x-should-retry": "false"}


def test_an_unexpected_error_never_leaks_its_text() -> None:
    body = error_body(describe_error(RuntimeError("password=hunter2")))
    assert "hunter2" not in str(body)
    assert set(body["error"]) == {"message", "type", "param", "code"}


def test_a_validation_error_names_the_nested_field_as_a_dotted_path() -> None:
    detail = {"messages": {1: {"content": {0: {"image_url": ["Only data: URIs are supported."]}}}}}
    description = describe_error(drf.ValidationError(detail))
    assert description.param == "messages[1].content[0].image_url"
    assert description.message == "Only data: URIs are supported."
    assert description.status == 400


def test_a_list_serializer_error_names_the_failing_item() -> None:
    required = ErrorDetail("This field is required.", code="required")
    detail = {"tools": [{}, {"function": {"name": [required]}}]}
    description = describe_error(drf.ValidationError(detail))
    assert description.param == "tools[1].function.name"
    assert description.code == "missing_required_parameter"


def test_a_malformed_json_body_gets_the_parse_message() -> None:
    description = describe_error(drf.ParseError("JSON parse error"))
    assert description.status == 400
    assert "parse the JSON body" in description.message


def test_every_paddler_refusal_row_says_whose_fault_and_a_client_fault_is_never_a_5xx() -> None:
    for row in PADDLER_REFUSALS:
        description = describe_error(UpstreamRejected(row.status, row.text_prefix + " detail"))
        assert description.status == row.answer_status
        if row.client_fault:
            assert (description.status // 100, description.type) == (4, "invalid_request_error")
        else:
            assert description.status >= 500


def test_a_body_paddler_cannot_deserialize_is_reported_as_the_gateways_fault_with_paddlers_reason() -> None:
    description = describe_error(UpstreamRejected(400, "Json deserialize error: unknown field `x`"))
    assert "gateway" in description.message and "unknown field `x`" in description.message
