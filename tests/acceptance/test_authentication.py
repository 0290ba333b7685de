"""Every way a bearer key can fail gets OpenAI's 401 envelope; the secret never leaks."""

from __future__ import annotations

from datetime import timedelta

import httpx
import openai
import pytest
from django.utils import timezone

from accounts.api_key_lifecycle import revoke_api_key
from tests.factories import make_api_key, make_tenant
from tests.live_server import LiveServer

EXPECTED_ERROR_KEYS = {"message", "type", "param", "code"}


def assert_invalid_api_key(response: httpx.Response) -> dict[str, object]:
    assert response.status_code == 401
    assert response.headers["content-type"].startswith("application/json")
    error = response.json()["error"]
    assert set(error) == EXPECTED_ERROR_KEYS
    assert error["type"] == "invalid_request_error"
    assert error["code"] == "invalid_api_key"
    assert error["param"] is None
    assert response.headers["x-request-id"].startswith("req_")
    return error


def test_a_request_without_a_key_is_refused(live_server: LiveServer, transactional_db: None) -> None:
    response = httpx.get(live_server.base_url + "/models")
    error = assert_invalid_api_key(response)
    assert "Authorization" in str(error["message"])


def test_a_malformed_authorization_header_is_refused(live_server: LiveServer, transactional_db: None) -> None:
    response = httpx.get(live_server.base_url + "/models", headers={"Authorization": "Basic abc"})
    assert_invalid_api_key(response)


def test_an_unknown_key_is_refused_without_echoing_it(live_server: LiveServer, transactional_db: None) -> None:
    guess = "oar_" + "x" * 43
    response = httpx.get(live_server.base_url + "/models", headers={"Authorization": f"Bearer {guess}"})
    assert_invalid_api_key(response)
    assert guess not in response.text and "xxxxxxxx" not in response.text


def test_a_revoked_key_is_refused(live_server: LiveServer, transactional_db: None) -> None:
    api_key, secret = make_api_key()
    revoke_api_key(api_key=api_key)
    client = openai.OpenAI(base_url=live_server.base_url, api_key=secret, max_retries=0)
    with pytest.raises(openai.AuthenticationError) as caught:
        client.models.list()
    assert caught.value.code == "invalid_api_key"
    assert "revoked" in caught.value.message


def test_an_expired_key_is_refused(live_server: LiveServer, transactional_db: None) -> None:
    _, secret = make_api_key(expires_at=timezone.now() - timedelta(seconds=1))
    client = openai.OpenAI(base_url=live_server.base_url, api_key=secret, max_retries=0)
    with pytest.raises(openai.AuthenticationError) as caught:
        client.models.list()
    assert "expired" in caught.value.message


def test_a_key_of_a_disabled_tenant_is_refused(live_server: LiveServer, transactional_db: None) -> None:
    _, secret = make_api_key(make_tenant(is_active=False))
    response = httpx.get(live_server.base_url + "/models", headers={"Authorization": f"Bearer {secret}"})
    assert_invalid_api_key(response)


def test_a_valid_key_is_accepted_and_its_secret_never_reaches_the_logs(
    live_server: LiveServer, api_key: tuple[object, str]
) -> None:
    secret = api_key[1]
    response = httpx.get(live_server.base_url + "/models", headers={"Authorization": f"Bearer {secret}"})
    assert response.status_code == 200
    bad = httpx.get(live_server.base_url + "/models", headers={"Authorization": f"Bearer {secret}x"})
    assert bad.status_code == 401
    assert secret not in bad.text
    assert secret.removeprefix("oar_")[:20] not in live_server.log_tail(10_000)
