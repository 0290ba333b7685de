"""Page tests: Debian's Chromium driven by Playwright, signed in through a real session cookie."""

from __future__ import annotations

import os
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from django.contrib.auth.models import User
from django.test import Client
from playwright.sync_api import Browser, BrowserContext, Page, sync_playwright

from tests.live_server import LiveServer

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
    "--disable-sync", "--no-first-run",
]
# Screenshots of the pages under test; git-ignored (see .gitignore).
ARTIFACTS = Path(__file__).resolve().parent.parent / "artifacts" / "screenshots"


class PageServer(LiveServer):
    """A live Daphne server that also serves /static/ (tests/static_asgi.py)."""

    def command(self) -> list[str]:
        return [sys.executable, "-m", "daphne", "-b", "127.0.0.1", "-p", str(self.port), "tests.static_asgi:application"]


# Module scope: Playwright's sync API keeps an event loop running in this thread while it is
# open, which would break the pytest-asyncio tests of other modules.
@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    if not Path(CHROMIUM).exists():
        pytest.skip("Debian's chromium is not installed (make test installs it)")
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


def signed_in_page(browser: Browser, server_url: str, user: User, **context_options: Any) -> tuple[BrowserContext, Page]:
    """A browser tab whose session cookie is ``user``'s (sign-in itself is the portal's tests)."""
    client = Client()
    client.force_login(user)
    context = browser.new_context(**context_options)
    context.add_cookies([{"name": "sessionid", "value": client.cookies["sessionid"].value, "url": server_url}])
    page = context.new_page()
    page.set_default_timeout(10_000)
    return context, page


def screenshot(page: Page, name: str) -> None:
    """Light, dark and phone-width screenshots of the page as it is now."""
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    size = page.viewport_size or {"width": 1280, "height": 800}
    for scheme in ("light", "dark"):
        page.emulate_media(color_scheme=scheme)
        page.screenshot(path=str(ARTIFACTS / f"{name}-{scheme}.png"), full_page=True)
    page.set_viewport_size({"width": 390, "height": 844})
    page.wait_for_timeout(300)  # let the layout settle at the new width
    page.screenshot(path=str(ARTIFACTS / f"{name}-phone.png"), full_page=True)
    page.set_viewport_size(size)
    page.emulate_media(color_scheme="light")


def start_page_server(fake_paddler_url: str, env: dict[str, str] | None = None) -> PageServer:
    return PageServer({
        "PADDLER_INFERENCE_URL": fake_paddler_url,
        "OARLOCK_DEFAULT_MODEL": "default",
        "OARLOCK_DEFAULT_MODEL_ALIASES": "fake-model",
        **(env or {}),
    }).start()
