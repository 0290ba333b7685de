"""One usage record per authenticated inference request, whatever happened — through real HTTP,
the official SDK, a live Daphne server and the fake Paddler."""

from __future__ import annotations

import time
from typing import Any

import httpx
import openai
import pytest

from accounts.models import ApiKey
from paddler_protocol.paddler_message import ContentToken, ReasoningToken
from paddler_protocol.token_usage import TokenUsage
from tests.fake_paddler import FakePaddlerServer
from tests.fake_paddler_reply import Reply, Sleep
from tests.fake_paddler_scripts import (
    buffered_requests_overflow,
    inference_item_timeout,
    plain_content,
    reasoning_then_content,
    slow_stream,
    usage_for,
)
from tests.live_server import LiveServer
from tests.usage.record_polling import wait_for_record
from usage.models import UsageRecord

USER = [{"role": "user", "content": "Hi"}]
TOKEN_FIELDS = (
    "prompt_tokens",
    "cached_prompt_tokens",
    "input_image_tokens",
    "content_tokens",
    "reasoning_tokens",
    "tool_call_tokens",
    "undeterminable_tokens",
)


def _record(api_key: tuple[Any, str]) -> UsageRecord:
    key: ApiKey = api_key[0]
    return wait_for_record(api_key_id=key.pk)


def _assert_tokens(record: UsageRecord, usage: TokenUsage) -> None:
    assert {name: getattr(record, name) for name in TOKEN_FIELDS} == {
        name: getattr(usage, name) for name in TOKEN_FIELDS
    }
    assert record.completion_tokens == usage.completion_tokens


def test_a_completed_chat_completion_records_paddlers_done_usage(
    openai_client: openai.OpenAI, fake_paddler: FakePaddlerServer, api_key: tuple[Any, str]
) -> None:
    usage = TokenUsage(
        prompt_tokens=21,
        cached_prompt_tokens=4,
        input_image_tokens=3,
        content_tokens=3,
        reasoning_tokens=57,
        tool_call_tokens=0,
        undeterminable_tokens=2,
    )
    fake_paddler.script(plain_content("a", "b", "c", usage=usage))
    raw = openai_client.chat.completions.with_raw_response.create(model="default", messages=USER)
    record = _record(api_key)
    key = api_key[0]
    assert record.request_id == raw.headers["x-request-id"]
    assert (record.outcome, record.http_status, record.usage_source, record.prompt_tokens_known) == (
        "completed",
        200,
        "reported",
        True,
    )
    _assert_tokens(record, usage)
    assert (record.endpoint, record.model, record.streamed) == ("chat.completions", "default", False)
    assert (record.tenant_id, record.tenant_name, record.api_key_id, record.key_name, record.key_prefix) == (
        key.tenant_id,
        key.tenant.name,
        key.pk,
        key.name,
        key.prefix,
    )
    assert record.generated_by == "fake-agent" and len(record.paddler_request_id) == 21
    assert record.time_to_first_token_ms is not None and record.duration_ms >= record.time_to_first_token_ms


def test_a_streamed_chat_completion_records_the_same_usage_marked_streamed(
    openai_client: openai.OpenAI, fake_paddler: FakePaddlerServer, api_key: tuple[Any, str]
) -> None:
    reply = reasoning_then_content(["Let", " me", " think"], ["Hi", "!"], prompt_tokens=30)
    fake_paddler.script(reply)
    for _ in openai_client.chat.completions.create(model="default", messages=USER, stream=True):
        pass
    record = _record(api_key)
    assert (record.outcome, record.streamed, record.usage_source) == ("completed", True, "reported")
    _assert_tokens(record, usage_for(reply.steps, prompt_tokens=30))


def test_a_response_records_usage_under_the_responses_endpoint(
    openai_client: openai.OpenAI, fake_paddler: FakePaddlerServer, api_key: tuple[Any, str]
) -> None:
    fake_paddler.script(plain_content("x", "y", prompt_tokens=9))
    openai_client.responses.create(model="default", input="Hi", store=False)
    record = _record(api_key)
    assert (record.endpoint, record.outcome, record.prompt_tokens, record.content_tokens) == (
        "responses",
        "completed",
        9,
        2,
    )


def test_a_reply_cut_by_max_tokens_is_recorded_as_incomplete(
    openai_client: openai.OpenAI, fake_paddler: FakePaddlerServer, api_key: tuple[Any, str]
) -> None:
    fake_paddler.script(plain_content("a", "b", "c"))
    completion = openai_client.chat.completions.create(model="default", messages=USER, max_tokens=3)
    assert completion.choices[0].finish_reason == "length"
    record = _record(api_key)
    assert (record.outcome, record.http_status, record.content_tokens) == ("incomplete", 200, 3)


def test_an_upstream_overflow_is_recorded_as_failed_with_zero_tokens(
    openai_client: openai.OpenAI, fake_paddler: FakePaddlerServer, api_key: tuple[Any, str]
) -> None:
    fake_paddler.script(buffered_requests_overflow())
    with pytest.raises(openai.APIStatusError) as raised:
        openai_client.chat.completions.create(model="default", messages=USER)
    assert raised.value.status_code == 503
    record = _record(api_key)
    assert (record.outcome, record.http_status, record.error_class) == ("failed", 503, "UpstreamErrorReply")
    assert (record.completion_tokens, record.prompt_tokens, record.prompt_tokens_known) == (0, 0, False)


def test_a_stream_failing_mid_way_records_the_tokens_relayed_before_the_error(
    openai_client: openai.OpenAI, fake_paddler: FakePaddlerServer, api_key: tuple[Any, str]
) -> None:
    fake_paddler.script(inference_item_timeout(after_tokens=("Hello", " there")))
    with pytest.raises(openai.APIError):
        for _ in openai_client.chat.completions.create(model="default", messages=USER, stream=True):
            pass
    record = _record(api_key)
    assert (record.outcome, record.usage_source, record.content_tokens, record.prompt_tokens_known) == (
        "failed",
        "counted",
        2,
        False,
    )


def test_a_bad_parameter_is_recorded_as_rejected_with_zero_tokens(
    openai_client: openai.OpenAI, fake_paddler: FakePaddlerServer, api_key: tuple[Any, str]
) -> None:
    with pytest.raises(openai.BadRequestError):
        openai_client.chat.completions.create(model="default", messages=USER, temperature="hot")  # type: ignore[arg-type]
    record = _record(api_key)
    assert (record.outcome, record.http_status, record.completion_tokens, record.prompt_tokens) == (
        "rejected",
        400,
        0,
        0,
    )
    assert record.prompt_tokens_known and record.error_class
    assert fake_paddler.requests == []


def test_an_unknown_model_is_recorded_as_rejected_under_the_requested_name(
    openai_client: openai.OpenAI, fake_paddler: FakePaddlerServer, api_key: tuple[Any, str]
) -> None:
    with pytest.raises(openai.NotFoundError):
        openai_client.responses.create(model="no-such-model", input="Hi")
    record = _record(api_key)
    assert (record.outcome, record.http_status, record.model, record.endpoint) == (
        "rejected",
        404,
        "no-such-model",
        "responses",
    )


def test_a_client_that_disconnects_mid_stream_is_billed_every_token_it_was_sent(
    openai_client: openai.OpenAI, fake_paddler: FakePaddlerServer, api_key: tuple[Any, str]
) -> None:
    fake_paddler.script(slow_stream(100, 0.05))
    stream = openai_client.chat.completions.create(model="default", messages=USER, stream=True)
    chunks = iter(stream)
    for _ in range(4):
        next(chunks)
    stream.close()
    assert fake_paddler.wait_for_disconnect()
    record = _record(api_key)
    sent = fake_paddler.lines_sent_before_disconnect
    assert sent is not None and 3 <= sent < 100  # the first chunk carries the role only
    assert (record.outcome, record.http_status, record.usage_source) == ("client_disconnected", 499, "counted")
    assert record.content_tokens == record.completion_tokens == sent
    # No Done: the prompt is billed at the admission estimate ("Hi": one token), flagged.
    assert (record.prompt_tokens, record.prompt_tokens_known, record.prompt_tokens_estimated) == (1, False, True)


def test_a_non_streaming_client_that_gives_up_is_recorded_as_disconnected(
    live_server: LiveServer, fake_paddler: FakePaddlerServer, api_key: tuple[Any, str]
) -> None:
    fake_paddler.script(slow_stream(100, 0.05))
    with pytest.raises(httpx.ReadTimeout):
        httpx.post(
            live_server.base_url + "/chat/completions",
            json={"model": "default", "messages": USER},
            headers={"Authorization": f"Bearer {api_key[1]}"},
            timeout=httpx.Timeout(5, read=0.5),
        )
    assert fake_paddler.wait_for_disconnect()
    record = _record(api_key)
    assert (record.outcome, record.usage_source, record.streamed) == ("client_disconnected", "counted", False)
    assert record.content_tokens == fake_paddler.lines_sent_before_disconnect


def test_an_unauthenticated_request_leaves_no_record(
    live_server: LiveServer, fake_paddler: FakePaddlerServer, api_key: tuple[Any, str]
) -> None:
    response = httpx.post(
        live_server.base_url + "/chat/completions",
        json={"model": "default", "messages": USER},
        headers={"Authorization": "Bearer oar_not_a_key"},
    )
    assert response.status_code == 401
    # A request that did authenticate, sent after it, is recorded alone.
    fake_paddler.script(plain_content())
    httpx.post(
        live_server.base_url + "/chat/completions",
        json={"model": "default", "messages": USER},
        headers={"Authorization": f"Bearer {api_key[1]}"},
    )
    assert _record(api_key).outcome == "completed"


def test_a_request_marks_its_key_as_used(
    openai_client: openai.OpenAI, fake_paddler: FakePaddlerServer, api_key: tuple[Any, str]
) -> None:
    key: ApiKey = api_key[0]
    fake_paddler.script(plain_content())
    openai_client.chat.completions.create(model="default", messages=USER)
    record = _record(api_key)
    # The writer touches the key in its own statement just after the records' commit.
    deadline = time.monotonic() + 10
    key.refresh_from_db()
    while key.last_used_at is None and time.monotonic() < deadline:
        time.sleep(0.05)
        key.refresh_from_db()
    assert key.last_used_at is not None and key.last_used_at >= record.started_at


def test_reasoning_lines_relayed_before_a_disconnect_are_counted_as_reasoning(
    openai_client: openai.OpenAI, fake_paddler: FakePaddlerServer, api_key: tuple[Any, str]
) -> None:
    steps: list[Any] = [ReasoningToken("r1"), ReasoningToken("r2"), ContentToken("c1")]
    steps += [step for index in range(50) for step in (Sleep(0.05), ContentToken(f"t{index}"))]
    fake_paddler.script(Reply(steps))
    with openai_client.chat.completions.with_streaming_response.create(
        model="default", messages=USER, stream=True
    ) as response:
        lines = response.iter_lines()
        while "t1" not in next(lines):
            pass
    assert fake_paddler.wait_for_disconnect()
    record = _record(api_key)
    assert record.reasoning_tokens == 2
    assert record.completion_tokens == fake_paddler.lines_sent_before_disconnect
