"""Property: whatever Oarlock accepts, Paddler accepts; whatever it refuses gets a 400 naming
the ``param``.

Generated bodies (tests/request_strategies.py: tool schemas, content parts, input items,
grammars and numbers — valid and not) go through each endpoint's parse and translation; the
translated body is then decoded by the strict fake Paddler's request check (serde's
``deny_unknown_fields`` types plus Paddler's tool check), exactly as it would be sent.
"""

from __future__ import annotations

from typing import Any

from hypothesis import HealthCheck, example, given, settings
from rest_framework.exceptions import ValidationError

from compat_api.chat.paddler_params import build_paddler_params as chat_params
from compat_api.chat.request_schema import ChatCompletionRequestSerializer
from compat_api.error_envelope import describe_error
from compat_api.errors import InvalidRequest
from compat_api.responses.paddler_params import build_paddler_params as responses_params
from compat_api.responses.request_schema import ResponsesRequestSerializer
from foundation.compact_json import compact_json
from paddler_protocol.conversation_params import ConversationParams
from paddler_protocol.inference_routes import CONVERSATION_HISTORY_PATH
from paddler_protocol.request_body import check_request
from tests.request_strategies import chat_cases, responses_cases

PROPERTY_SETTINGS = settings(
    max_examples=500, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large]
)


def assert_paddler_accepts(params: ConversationParams) -> None:
    raw = compact_json(params.to_json()).encode()
    check_request(CONVERSATION_HISTORY_PATH, "application/json", raw)  # raises RequestRejected


def assert_refusal_names_a_param(error: Exception, body: dict[str, Any]) -> None:
    description = describe_error(error)
    assert description.status == 400, (description, body)
    assert description.type == "invalid_request_error"
    assert description.param, (description.message, body)


@PROPERTY_SETTINGS
@given(chat_cases)
# Found by the fuzzing job: a null where a list holds objects was a 500.
@example({"model": "default", "messages": [{"role": "user", "content": "Hi"}], "tools": [None]})
@example({"model": "default", "messages": [{"role": "assistant", "tool_calls": [None]}]})
def test_every_chat_request_oarlock_accepts_paddler_accepts(body: dict[str, Any]) -> None:
    try:
        request = ChatCompletionRequestSerializer.parse(body)
    except InvalidRequest as error:
        assert_refusal_names_a_param(error, body)
        return
    assert_paddler_accepts(chat_params(request))


@PROPERTY_SETTINGS
@given(responses_cases)
@example({"model": "default", "input": [{"type": "reasoning", "content": [None]}], "store": False})
def test_every_responses_request_oarlock_accepts_paddler_accepts(body: dict[str, Any]) -> None:
    try:
        request = ResponsesRequestSerializer.parse(body)
    except (InvalidRequest, ValidationError) as error:
        assert_refusal_names_a_param(error, body)
        return
    assert_paddler_accepts(responses_params(request, request.input))
