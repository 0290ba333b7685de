"""Who axes counts a sign-in against, and how it names the client in its logs."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import RequestFactory

from accounts.login_lockout import client_address, client_label


@pytest.mark.parametrize(
    ("proxies", "forwarded", "expected"),
    [
        (0, "203.0.113.9", "10.0.0.2"),  # no proxy configured: the header is the client's to forge
        (1, "198.51.100.1, 203.0.113.9", "203.0.113.9"),  # the left entry was written by the client
        (2, "198.51.100.1, 203.0.113.9, 10.0.0.7", "203.0.113.9"),
        (2, "203.0.113.9", "10.0.0.2"),  # shorter than the proxy chain: the connection's address
    ],
)
def test_the_client_address_is_read_behind_the_configured_proxies(
    settings: Any, proxies: int, forwarded: str, expected: str
) -> None:
    settings.OARLOCK_TRUSTED_PROXY_COUNT = proxies
    request = RequestFactory().post("/admin/login/", HTTP_X_FORWARDED_FOR=forwarded, REMOTE_ADDR="10.0.0.2")
    assert client_address(request) == expected


def test_a_username_with_a_newline_stays_on_one_log_line() -> None:
    label = client_label("x\n2026-01-01 INFO FAKE LOG LINE", "10.0.0.1", "agent", "/admin/login/", None)
    assert "\n" not in label and "\\n2026-01-01 INFO FAKE" in label


def test_a_long_username_is_bounded() -> None:
    assert len(client_label("a" * 100_000, "10.0.0.1", "agent", "/admin/login/", None)) < 500
