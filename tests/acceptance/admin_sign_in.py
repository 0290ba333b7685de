"""Signing in through the admin's login form over real HTTP (CSRF token included)."""

from __future__ import annotations

import re

import httpx

from tests.live_server import LiveServer


def sign_in(browser: httpx.Client, username: str, password: str) -> httpx.Response:
    """POST the admin login form with ``browser`` (its cookies keep the session)."""
    form = browser.get("/admin/login/")
    match = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', form.text)
    assert match is not None, form.text[:500]
    return browser.post(
        "/admin/login/?next=/admin/",
        data={
            "csrfmiddlewaretoken": match.group(1),
            "username": username,
            "password": password,
            "next": "/admin/",
        },
    )


def signed_in_browser(server: LiveServer, username: str, password: str) -> httpx.Client:
    browser = httpx.Client(base_url=server.url)
    response = sign_in(browser, username, password)
    assert response.status_code == 302, response.text[:500]
    return browser
