"""Limits as the official ``openai`` SDK sees them, on one worker (in-process limit store).

Each test starts its own server (``REDIS_URL`` empty), so counters never carry over.
"""

from __future__ import annotations

import itertools
import re
import threading
import time
from collections.abc import Callable, Iterator
from typing import Any

import httpx
import openai
import pytest

from paddler_protocol.paddler_message import ContentToken
from tests.factories import make_api_key, make_tenant
from tests.fake_paddler import FakePaddlerServer, Sleep
from tests.fake_paddler_scripts import (
    buffered_requests_overflow,
    finished,
    slow_stream,
)
from tests.live_server import LiveServer
from tests.usage.record_polling import wait_for_records

USER = [{"role": "user", "content": "Hi"}]
RATE_LIMIT_HEADERS = [
    f"x-ratelimit-{what}-{kind}" for kind in ("requests", "tokens") for what in ("limit", "remaining", "reset")
]


@pytest.fixture
def server(live_server_factory: Callable[..., LiveServer], transactional_db: None) -> LiveServer:
    return live_server_factory({"REDIS_URL": ""})


@pytest.fixture
def clients(server: LiveServer) -> Iterator[Callable[..., openai.OpenAI]]:
    made: list[openai.OpenAI] = []

    def client(secret: str, *, max_retries: int = 0, http_client: httpx.Client | None = None) -> openai.OpenAI:
        made.append(
            openai.OpenAI(
                base_url=server.base_url,
                api_key=secret,
                max_retries=max_retries,
                timeout=30,
                http_client=http_client,
            )
        )
        return made[-1]

    yield client
    for each in made:
        each.close()


def slow_reply(seconds: float) -> Any:
    return finished([ContentToken("a"), Sleep(seconds), ContentToken("b")])


def in_background(call: Callable[[], Any]) -> threading.Thread:
    thread = threading.Thread(target=call, daemon=True)
    thread.start()
    return thread


def test_an_admitted_response_carries_openais_rate_limit_headers(
    clients: Callable[..., openai.OpenAI], fake_paddler: FakePaddlerServer
) -> None:
    _, secret = make_api_key(rpm=60, tpm=100_000)
    raw = clients(secret).chat.completions.with_raw_response.create(model="default", messages=USER, max_tokens=100)
    assert {name: raw.headers[name] for name in RATE_LIMIT_HEADERS} == {
        "x-ratelimit-limit-requests": "60",
        "x-ratelimit-remaining-requests": "59",
        "x-ratelimit-reset-requests": "1s",
        "x-ratelimit-limit-tokens": "100000",
        "x-ratelimit-remaining-tokens": "99899",  # 101 reserved: "Hi" ≈ 1 token + max_tokens
        "x-ratelimit-reset-tokens": "61ms",
    }
    with clients(secret).chat.completions.with_streaming_response.create(
        model="default", messages=USER, stream=True
    ) as streamed:
        assert streamed.headers["x-ratelimit-remaining-requests"] == "58"
        assert streamed.headers["content-type"].startswith("text/event-stream")


def test_a_key_without_limits_gets_no_rate_limit_headers(
    clients: Callable[..., openai.OpenAI], fake_paddler: FakePaddlerServer
) -> None:
    _, secret = make_api_key()
    raw = clients(secret).chat.completions.with_raw_response.create(model="default", messages=USER)
    assert not any(name in raw.headers for name in RATE_LIMIT_HEADERS)


def test_a_key_over_its_requests_per_minute_gets_a_rate_limit_error_saying_when_to_retry(
    clients: Callable[..., openai.OpenAI], fake_paddler: FakePaddlerServer
) -> None:
    _, secret = make_api_key(rpm=2)
    client = clients(secret)
    for _ in range(2):
        client.chat.completions.create(model="default", messages=USER)
    with pytest.raises(openai.RateLimitError) as refused:
        client.chat.completions.create(model="default", messages=USER)
    error = refused.value
    assert (error.status_code, error.code, error.type) == (429, "rate_limit_exceeded", "requests")
    assert "requests per min (RPM): Limit 2" in error.message
    wait = re.search(r"Please try again in (\d+(?:\.\d+)?)s\.", error.message)
    assert wait is not None and 29 < float(wait.group(1)) <= 30
    assert error.response.headers["retry-after"] == "30"
    assert 29_000 < int(error.response.headers["retry-after-ms"]) <= 30_000
    assert error.response.headers["x-ratelimit-remaining-requests"] == "0"
    assert len(fake_paddler.requests) == 2  # the refused request never reached Paddler


def test_the_sdk_waits_as_long_as_retry_after_says_before_retrying(
    clients: Callable[..., openai.OpenAI], fake_paddler: FakePaddlerServer
) -> None:
    _, secret = make_api_key(max_concurrent=1)
    fake_paddler.script(slow_reply(2.0))
    holder = in_background(lambda: clients(secret).chat.completions.create(model="default", messages=USER))
    assert fake_paddler.wait_for_requests(1)
    attempts: list[float] = []
    http_client = httpx.Client(event_hooks={"request": [lambda request: attempts.append(time.monotonic())]})
    reply = clients(secret, max_retries=5, http_client=http_client).chat.completions.create(
        model="default", messages=USER
    )
    holder.join(10)
    assert reply.choices[0].message.content
    assert len(attempts) >= 2
    gaps = [later - earlier for earlier, later in itertools.pairwise(attempts)]
    # retry-after-ms is 1000 for a busy slot; the SDK's own first backoff would be ≤ 0.5 s.
    assert all(gap >= 0.95 for gap in gaps), gaps


def test_an_exhausted_budget_is_insufficient_quota_and_the_sdk_does_not_retry(
    clients: Callable[..., openai.OpenAI], fake_paddler: FakePaddlerServer
) -> None:
    _, secret = make_api_key(token_budget=10, budget_period="day")
    clients(secret).chat.completions.create(model="default", messages=USER)  # 15 tokens: over budget now
    attempts: list[httpx.Request] = []
    http_client = httpx.Client(event_hooks={"request": [attempts.append]})
    with pytest.raises(openai.RateLimitError) as refused:
        clients(secret, max_retries=3, http_client=http_client).chat.completions.create(model="default", messages=USER)
    error = refused.value
    assert (error.code, error.type) == ("insufficient_quota", "insufficient_quota")
    assert error.response.headers["x-should-retry"] == "false"
    assert "daily token budget" in error.message and "resets at" in error.message
    assert len(attempts) == 1


def test_a_model_outside_the_keys_allowed_models_is_a_403_naming_it(
    clients: Callable[..., openai.OpenAI], fake_paddler: FakePaddlerServer
) -> None:
    _, secret = make_api_key(allowed_models=["fake-model"])
    with pytest.raises(openai.PermissionDeniedError) as refused:
        clients(secret).chat.completions.create(model="default", messages=USER)
    assert refused.value.code == "model_not_allowed"
    assert "`default`" in refused.value.message
    assert clients(secret).chat.completions.create(model="fake-model", messages=USER).choices


def test_a_tenant_in_flight_cap_holds_across_all_its_keys(
    clients: Callable[..., openai.OpenAI], fake_paddler: FakePaddlerServer
) -> None:
    tenant = make_tenant(max_concurrent=1)
    _, first = make_api_key(tenant)
    _, second = make_api_key(tenant)
    _, other_tenant = make_api_key()
    fake_paddler.script(slow_reply(1.5))
    holder = in_background(lambda: clients(first).chat.completions.create(model="default", messages=USER))
    assert fake_paddler.wait_for_requests(1)
    with pytest.raises(openai.RateLimitError, match=f"in flight for tenant {tenant.name}"):
        clients(second).chat.completions.create(model="default", messages=USER)
    assert clients(other_tenant).chat.completions.create(model="default", messages=USER).choices
    holder.join(10)
    assert clients(second).chat.completions.create(model="default", messages=USER).choices


def test_a_client_that_disconnects_gives_its_slot_back(
    clients: Callable[..., openai.OpenAI], fake_paddler: FakePaddlerServer
) -> None:
    _, secret = make_api_key(max_concurrent=1)
    fake_paddler.script(slow_stream(100, 0.05))
    stream = clients(secret).chat.completions.create(model="default", messages=USER, stream=True)
    next(iter(stream))
    stream.close()
    assert fake_paddler.wait_for_disconnect()
    assert _eventually_admitted(clients(secret))


def test_a_failed_upstream_request_gives_its_slot_back(
    clients: Callable[..., openai.OpenAI], fake_paddler: FakePaddlerServer
) -> None:
    _, secret = make_api_key(max_concurrent=1)
    fake_paddler.script(buffered_requests_overflow())
    with pytest.raises(openai.InternalServerError):
        clients(secret).chat.completions.create(model="default", messages=USER)
    assert clients(secret).chat.completions.create(model="default", messages=USER).choices


def test_the_responses_endpoint_is_limited_too(
    clients: Callable[..., openai.OpenAI], fake_paddler: FakePaddlerServer
) -> None:
    _, secret = make_api_key(rpm=1)
    client = clients(secret)
    assert client.responses.create(model="default", input="Hi").output_text
    with pytest.raises(openai.RateLimitError, match="Please try again in"):
        client.responses.create(model="default", input="Hi")


def _eventually_admitted(client: openai.OpenAI, timeout: float = 3.0) -> bool:
    """The release runs when the server notices the disconnect: allow it a moment."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            client.chat.completions.create(model="default", messages=USER)
            return True
        except openai.RateLimitError:
            if time.monotonic() > deadline:
                return False
            time.sleep(0.1)


def test_a_refused_request_still_gets_its_usage_record_with_zero_tokens(
    clients: Callable[..., openai.OpenAI], fake_paddler: FakePaddlerServer
) -> None:
    api_key, secret = make_api_key(rpm=1)
    client = clients(secret)
    client.chat.completions.create(model="default", messages=USER)
    with pytest.raises(openai.RateLimitError):
        client.chat.completions.create(model="default", messages=USER)
    completed, refused = wait_for_records(api_key_ids=[api_key.pk], count=2)
    assert (completed.outcome, completed.total_tokens) == ("completed", 15)
    assert (refused.outcome, refused.http_status, refused.total_tokens) == ("rejected", 429, 0)
    assert refused.error_class == "RateLimited"
