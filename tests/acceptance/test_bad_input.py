"""Malformed bodies get OpenAI's envelope with a 4xx, never an HTML page or a 500."""

from __future__ import annotations

from collections.abc import Callable

import httpx
import pytest

from tests.fake_paddler import FakePaddlerServer
from tests.fake_paddler_scripts import plain_content
from tests.live_server import LiveServer


@pytest.fixture
def auth(api_key: tuple[object, str]) -> dict[str, str]:
    return {"Authorization": f"Bearer {api_key[1]}"}


def assert_envelope(response: httpx.Response, status: int) -> dict[str, object]:
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/json")
    error = response.json()["error"]
    assert set(error) == {"message", "type", "param", "code"}
    assert error["type"] == "invalid_request_error"
    return error


def test_malformed_json_is_a_400(live_server: LiveServer, auth: dict[str, str]) -> None:
    response = httpx.post(
        live_server.base_url + "/chat/completions",
        content=b'{"model": "default", "messages": [',
        headers={**auth, "Content-Type": "application/json"},
    )
    error = assert_envelope(response, 400)
    assert "JSON" in str(error["message"])


def test_a_wrong_content_type_is_a_400(live_server: LiveServer, auth: dict[str, str]) -> None:
    response = httpx.post(
        live_server.base_url + "/chat/completions",
        content=b"model=default",
        headers={**auth, "Content-Type": "application/x-www-form-urlencoded"},
    )
    error = assert_envelope(response, 400)
    assert "application/json" in str(error["message"])


def test_a_json_body_that_is_not_an_object_is_a_400(live_server: LiveServer, auth: dict[str, str]) -> None:
    response = httpx.post(live_server.base_url + "/chat/completions", json=[1, 2], headers=auth)
    assert_envelope(response, 400)


def test_a_body_over_the_limit_is_a_413_before_authentication(
    live_server_factory: Callable[..., LiveServer], transactional_db: None
) -> None:
    server = live_server_factory({"OARLOCK_MAX_REQUEST_BYTES": "1000"})
    response = httpx.post(
        server.base_url + "/chat/completions",
        content=b'{"model": "default", "messages": [{"role": "user", "content": "' + b"x" * 2000 + b'"}]}',
        headers={"Content-Type": "application/json"},
    )
    error = assert_envelope(response, 413)
    assert error["code"] == "request_too_large"
    assert "1000" in str(error["message"])


def test_an_unknown_v1_route_is_a_json_404(live_server: LiveServer, auth: dict[str, str]) -> None:
    response = httpx.post(live_server.base_url + "/completions", json={}, headers=auth)
    error = assert_envelope(response, 404)
    assert error["message"] == "Invalid URL (POST /v1/completions)."


def test_a_wrong_method_is_a_json_405(live_server: LiveServer, auth: dict[str, str]) -> None:
    response = httpx.get(live_server.base_url + "/chat/completions", headers=auth)
    assert_envelope(response, 405)


def test_a_json_body_without_a_content_type_is_a_400_naming_it(live_server: LiveServer, auth: dict[str, str]) -> None:
    response = httpx.post(
        live_server.base_url + "/chat/completions",
        content=b'{"model": "default", "messages": [{"role": "user", "content": "Hi"}]}',
        headers=auth,
    )
    error = assert_envelope(response, 400)
    assert "Content-Type" in str(error["message"])


@pytest.mark.parametrize("endpoint", ["/chat/completions", "/responses"])
def test_an_empty_body_is_a_400_naming_the_missing_field(
    live_server: LiveServer, auth: dict[str, str], endpoint: str
) -> None:
    response = httpx.post(live_server.base_url + endpoint, headers={**auth, "Content-Type": "application/json"})
    error = assert_envelope(response, 400)
    assert error["param"] == "model"


def test_a_body_sent_in_chunks_without_a_length_is_read(
    live_server: LiveServer, auth: dict[str, str], fake_paddler: FakePaddlerServer
) -> None:
    fake_paddler.script(plain_content("Hello"))
    body = b'{"model": "default", "messages": [{"role": "user", "content": "Hi"}]}'
    response = httpx.post(
        live_server.base_url + "/chat/completions",
        content=iter([body[:20], body[20:]]),  # an iterator: httpx sends it chunked
        headers={**auth, "Content-Type": "application/json"},
    )
    assert response.status_code == 200, response.text
    assert response.json()["choices"][0]["message"]["content"] == "Hello"
