"""Sign-in throttling over real HTTP: a username locks after N wrong passwords, an address after M."""

from __future__ import annotations

from collections.abc import Callable

import httpx
import pytest
from django.contrib.auth import get_user_model
from django.test import Client

from tests.acceptance import admin_sign_in
from tests.live_server import LiveServer

USERNAME_LIMIT, ADDRESS_LIMIT = 3, 5


@pytest.fixture
def server(live_server_factory: Callable[..., LiveServer], transactional_db: None) -> LiveServer:
    get_user_model().objects.create_superuser("alice", password="right-password")
    get_user_model().objects.create_superuser("bob", password="bobs-password")
    return live_server_factory(
        {
            "OARLOCK_LOGIN_FAILURE_LIMIT": str(USERNAME_LIMIT),
            "OARLOCK_LOGIN_IP_FAILURE_LIMIT": str(ADDRESS_LIMIT),
            "OARLOCK_LOGIN_LOCKOUT_MINUTES": "15",
        }
    )


def sign_in(server: LiveServer, username: str, password: str) -> httpx.Response:
    with httpx.Client(base_url=server.url) as browser:
        return admin_sign_in.sign_in(browser, username, password)


def test_a_username_is_locked_after_n_wrong_passwords_and_the_right_one_is_refused(server: LiveServer) -> None:
    assert sign_in(server, "alice", "right-password").status_code == 302  # works before
    for _ in range(USERNAME_LIMIT - 1):
        assert sign_in(server, "alice", "wrong").status_code == 200  # the form again, with an error
    assert sign_in(server, "alice", "wrong").status_code == 429  # the Nth failure locks
    locked = sign_in(server, "alice", "right-password")
    assert locked.status_code == 429
    assert "Too many failed sign-in attempts" in locked.text
    assert "Try again in 15 minutes" in locked.text
    assert "Traceback" not in locked.text and "sessionid" not in locked.headers.get("set-cookie", "")
    assert sign_in(server, "bob", "bobs-password").status_code == 302  # other people are not locked


def test_an_address_is_locked_after_m_failures_across_usernames(server: LiveServer) -> None:
    for number in range(ADDRESS_LIMIT - 1):
        assert sign_in(server, f"guess-{number}", "wrong").status_code == 200
    assert sign_in(server, "guess-last", "wrong").status_code == 429
    assert sign_in(server, "bob", "bobs-password").status_code == 429


def test_a_good_sign_in_clears_earlier_failures(server: LiveServer) -> None:
    for _ in range(USERNAME_LIMIT - 1):
        sign_in(server, "alice", "wrong")
    assert sign_in(server, "alice", "right-password").status_code == 302
    assert sign_in(server, "alice", "wrong").status_code == 200  # counting starts again


def test_staff_see_the_lockout_in_the_admin(server: LiveServer) -> None:
    for _ in range(USERNAME_LIMIT):
        sign_in(server, "alice", "wrong")
    staff = Client()
    staff.force_login(get_user_model().objects.get(username="bob"))
    page = staff.get("/admin/axes/accessattempt/")
    assert page.status_code == 200
    assert "alice" in page.content.decode()


def test_the_portal_sign_in_is_throttled_too(server: LiveServer) -> None:
    def portal_sign_in(password: str) -> httpx.Response:
        with httpx.Client(base_url=server.url) as browser:
            form = browser.get("/accounts/login/")
            token = form.cookies.get("csrftoken") or browser.cookies["csrftoken"]
            return browser.post(
                "/accounts/login/",
                data={"csrfmiddlewaretoken": token, "username": "alice", "password": password},
            )

    for _ in range(USERNAME_LIMIT - 1):
        assert portal_sign_in("wrong").status_code == 200
    assert portal_sign_in("wrong").status_code == 429
    locked = portal_sign_in("right-password")
    assert locked.status_code == 429 and "Too many failed sign-in attempts" in locked.text
