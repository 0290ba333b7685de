"""Page tests of the playground and the monitor: the portal's browser helpers (tests/browser.py),
with a browser per test module and people signed in by a real session cookie."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from django.contrib.auth.models import User
from django.test import Client
from playwright.sync_api import Browser, BrowserContext, Page, sync_playwright

from tests.browser import CHROMIUM, CHROMIUM_ARGS, DESKTOP, screenshot
from tests.live_server import LiveServer

__all__ = ["browser", "screenshot", "signed_in_page", "start_page_server"]


# Module scope, unlike the portal's session-wide browser: Playwright's sync API keeps an event
# loop running in this thread while it is open, which breaks pytest-asyncio tests run after it.
@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    if not Path(CHROMIUM).exists():
        pytest.fail(f"{CHROMIUM} is missing: run scripts/install-browser (make test does)")
    # Playwright's sync API keeps an event loop in this thread; Django's ORM calls made by the
    # test itself (factories, assertions) are still plain sync code.
    before = os.environ.get("DJANGO_ALLOW_ASYNC_UNSAFE")
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    try:
        with sync_playwright() as playwright:
            launched = playwright.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
            yield launched
            launched.close()
    finally:
        if before is None:
            os.environ.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)
        else:
            os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = before


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
