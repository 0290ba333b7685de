"""Page tests of the playground and the monitor, on the portal's browser fixtures
(tests/browser.py): people signed in by a real session cookie, a live server with the fake Paddler."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from django.contrib.auth.models import User
from django.test import Client
from playwright.sync_api import Browser, BrowserContext, Page

from tests.browser import DESKTOP, screenshot
from tests.fake_paddler import FakePaddlerServer
from tests.live_server import LiveServer

__all__ = ["page_server", "screenshot", "signed_in_page", "start_page_server"]


def signed_in_page(
    browser: Browser, server_url: str, user: User, **context_options: Any
) -> tuple[BrowserContext, Page]:
    """A browser tab whose session cookie is ``user``'s (sign-in itself is the portal's tests)."""
    client = Client()
    client.force_login(user)
    context = browser.new_context(viewport=DESKTOP, **context_options)
    context.add_cookies([{"name": "sessionid", "value": client.cookies["sessionid"].value, "url": server_url}])
    page = context.new_page()
    page.set_default_timeout(10_000)
    return context, page


def start_page_server(fake_paddler_url: str, env: dict[str, str] | None = None) -> LiveServer:
    return LiveServer(
        {
            "PADDLER_INFERENCE_URL": fake_paddler_url,
            "OARLOCK_DEFAULT_MODEL": "default",
            "OARLOCK_DEFAULT_MODEL_ALIASES": "fake-model",
            **(env or {}),
        }
    ).start()


@pytest.fixture(scope="session")
def page_server(django_db_setup: None, fake_paddler_server: FakePaddlerServer) -> Iterator[LiveServer]:
    """One live server for the playground and monitor page tests (import it in their conftest)."""
    server = start_page_server(fake_paddler_server.url)
    yield server
    server.stop()
