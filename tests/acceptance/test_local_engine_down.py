"""The local engine of ``make serve`` is down: 503 + retry-after naming it, never a 500 or a hang.

No model needed: the supervisor's ``OARLOCK_LOCAL_ENGINE=1`` with nothing listening on the engine's
port is exactly what Oarlock sees between an engine's death and its restart
(``test_local_engine_crashes.py`` kills the real one).
"""

from __future__ import annotations

import time
from collections.abc import Callable

import httpx
import openai
import pytest
from django.contrib.auth import get_user_model

from tests.acceptance.admin_sign_in import signed_in_browser
from tests.live_server import LiveServer, free_port
from tests.usage.record_polling import wait_for_request_record


@pytest.fixture
def oarlock(live_server_factory: Callable[..., LiveServer]) -> LiveServer:
    return live_server_factory(
        {"PADDLER_INFERENCE_URL": f"http://127.0.0.1:{free_port()}", "OARLOCK_LOCAL_ENGINE": "1"}
    )


@pytest.mark.parametrize("stream", [False, True])
def test_requests_answer_503_with_retry_after_naming_the_local_engine(
    oarlock: LiveServer, api_key: tuple[object, str], stream: bool
) -> None:
    with openai.OpenAI(base_url=oarlock.base_url, api_key=api_key[1], max_retries=0, timeout=10) as client:
        started = time.monotonic()
        with pytest.raises(openai.APIStatusError) as raised:
            client.chat.completions.create(model="default", messages=[{"role": "user", "content": "hi"}], stream=stream)
        assert time.monotonic() - started < 5
    error = raised.value
    assert error.status_code == 503
    assert error.response.headers["retry-after"] == "5"
    assert error.code == "local_engine_unavailable" and "local engine" in error.message
    record = wait_for_request_record(error.response.headers["x-request-id"])
    assert (record.outcome, record.http_status) == ("failed", 503)


def test_responses_answer_503_too(oarlock: LiveServer, api_key: tuple[object, str]) -> None:
    with (
        openai.OpenAI(base_url=oarlock.base_url, api_key=api_key[1], max_retries=0, timeout=10) as client,
        pytest.raises(openai.APIStatusError) as raised,
    ):
        client.responses.create(model="default", input="hi")
    assert raised.value.status_code == 503 and "local engine" in raised.value.message


def test_health_reports_the_local_engine_upstream_unhealthy(oarlock: LiveServer, transactional_db: None) -> None:
    response = httpx.get(oarlock.url + "/health")
    assert response.status_code == 200
    assert response.json() == {"status": "degraded"}
    get_user_model().objects.create_user("ops", password="ops-password", is_staff=True)
    browser = signed_in_browser(oarlock, "ops", "ops-password")
    detail = browser.get("/health").json()
    browser.close()
    assert detail["upstreams"][0]["healthy"] is False
