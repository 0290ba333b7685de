"""Behind a TLS-terminating proxy: HSTS, secure cookies, the redirect to HTTPS, /health exempt."""

from __future__ import annotations

from collections.abc import Callable

import httpx
import pytest

from tests.live_server import LiveServer


@pytest.fixture
def behind_proxy(live_server_factory: Callable[..., LiveServer]) -> LiveServer:
    return live_server_factory(
        {
            "OARLOCK_SECURE_COOKIES": "1",
            "OARLOCK_HSTS_SECONDS": "3600",
            "OARLOCK_SSL_REDIRECT": "1",
            "OARLOCK_SECURE_PROXY_SSL_HEADER": "X-Forwarded-Proto: https",
        }
    )


def test_https_through_the_proxy_gets_hsts_and_secure_cookies(behind_proxy: LiveServer) -> None:
    response = httpx.get(behind_proxy.url + "/admin/login/", headers={"X-Forwarded-Proto": "https"})
    assert response.status_code == 200
    assert response.headers["strict-transport-security"] == "max-age=3600"
    csrf_cookie = response.headers["set-cookie"]
    assert "csrftoken=" in csrf_cookie and "Secure" in csrf_cookie


def test_plain_http_is_redirected_to_https_except_the_health_probe(behind_proxy: LiveServer) -> None:
    response = httpx.get(behind_proxy.url + "/admin/login/")
    assert response.status_code == 301
    assert response.headers["location"].startswith("https://")
    assert httpx.get(behind_proxy.url + "/health").status_code == 200
