"""Property: whatever Oarlock accepts, Paddler accepts; whatever it refuses gets a 400 naming
the ``param``.

Generated bodies (tests/request_strategies.py: tool schemas, content parts, input items,
grammars and numbers — valid and not) go through each endpoint's parse and translation; the
translated body is then decoded by the strict fake Paddler's request check (serde's
``deny_unknown_fields`` types plus Paddler's tool check), exactly as it would be sent.
"""

from __future__ import annotations

from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from rest_framework.exceptions import ValidationError

from compat_api.chat.paddler_params import build_paddler_params as chat_params
from compat_api.chat.request_schema import ChatCompletionRequestSerializer
from compat_api.compact_json import compact_json
from compat_api.error_envelope import describe_error
from compat_api.errors import InvalidRequest
from compat_api.responses.paddler_params import build_paddler_params as responses_params
from compat_api.responses.request_schema import ResponsesRequestSerializer
from inference.conversation_params import ConversationParams
from inference.fake_paddler_request_check import check_request
from inference.paddler_client import CONVERSATION_HISTORY_PATH
from tests.request_strategies import (
    MAX_TOKENS,
    chat_bodies,
    chat_messages,
    chat_tools,
    response_formats,
    responses_bodies,
    responses_items,
    responses_tools,
    text_formats,
)

USER = [{"role": "user", "content": "Hi"}]


def chat_with(**parts: st.SearchStrategy[Any]) -> st.SearchStrategy[dict[str, Any]]:
    """A valid chat body in which only ``parts`` are generated, so the deep parts are reached."""
    return st.fixed_dictionaries({"model": st.just("default"), "messages": st.just(USER), **parts})


def responses_with(**parts: st.SearchStrategy[Any]) -> st.SearchStrategy[dict[str, Any]]:
    return st.fixed_dictionaries({"model": st.just("default"), "input": st.just("Hi"), "store": st.just(False),
                                  **parts})


CHAT_CASES = st.one_of(
    chat_bodies,
    chat_with(tools=st.lists(chat_tools, min_size=1, max_size=3)),
    chat_with(messages=st.lists(chat_messages, min_size=1, max_size=4)),
    chat_with(response_format=response_formats),
    chat_with(max_tokens=MAX_TOKENS, max_completion_tokens=MAX_TOKENS),
)
RESPONSES_CASES = st.one_of(
    responses_bodies,
    responses_with(tools=st.lists(responses_tools, min_size=1, max_size=3)),
    responses_with(input=st.lists(responses_items, min_size=1, max_size=4)),
    responses_with(text=st.fixed_dictionaries({"format": text_formats})),
    responses_with(max_output_tokens=MAX_TOKENS),
)

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
@given(CHAT_CASES)
def test_every_chat_request_oarlock_accepts_paddler_accepts(body: dict[str, Any]) -> None:
    try:
        request = ChatCompletionRequestSerializer.parse(body)
    except InvalidRequest as error:
        assert_refusal_names_a_param(error, body)
        return
    assert_paddler_accepts(chat_params(request))


@PROPERTY_SETTINGS
@given(RESPONSES_CASES)
def test_every_responses_request_oarlock_accepts_paddler_accepts(body: dict[str, Any]) -> None:
    try:
        request = ResponsesRequestSerializer.parse(body)
    except (InvalidRequest, ValidationError) as error:
        assert_refusal_names_a_param(error, body)
        return
    assert_paddler_accepts(responses_params(request, request.input))
