"""Browser fixtures for page tests: Playwright driving Debian's chromium against a live Daphne.

Reusable by every portal page test (import the fixtures through ``tests/conftest.py``):

- ``browser``: one headless chromium per test module (``/usr/bin/chromium``, installed by
  ``scripts/install-browser``; Playwright cannot download its own browser here). Per module,
  not per session: Playwright's sync API keeps an event loop running in the main thread while
  it is open, and pytest-asyncio cannot run async tests then — keep async tests out of
  modules that use the browser.
- ``page``: a fresh browser context (cookies, storage) and page per test, desktop size; any
  request beyond loopback is aborted.
- ``portal_person(tenant=…, role=…, staff=…)``: a committed user with a password and membership.
- ``sign_in(page, server, person)``: signs in through the real sign-in form.
- ``axe_violations(page)``: runs the vendored axe-core; returns serious and critical violations.
- ``screenshot(page, name)``: light, dark and phone-width PNGs under ``test-artifacts/``.
"""

from __future__ import annotations

import itertools
import re
import os
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from django.contrib.auth import get_user_model
from playwright.sync_api import Browser, Page, sync_playwright

from accounts.models import Tenant, TenantMembership
from tests.live_server import PROJECT_DIR, LiveServer

CHROMIUM = os.environ.get("OARLOCK_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
    "--disable-sync", "--no-first-run", "--disable-dev-shm-usage",
]
AXE_SCRIPT = Path(__file__).resolve().parent / "portal" / "vendor" / "axe-core" / "axe.min.js"
ARTIFACTS = PROJECT_DIR / "test-artifacts"
DESKTOP = {"width": 1280, "height": 860}
PHONE = {"width": 390, "height": 844}
PASSWORD = "correct horse battery staple"

_sequence = itertools.count(1)


@dataclass(frozen=True)
class PortalPerson:
    username: str
    password: str
    user: Any
    tenant: Tenant | None


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    if not Path(CHROMIUM).exists():
        pytest.fail(f"{CHROMIUM} is missing: run scripts/install-browser (make test does)")
    # Playwright's sync API runs an event loop in this thread; the ORM calls the tests make
    # around it are plain synchronous code (no loop of ours is running), so allow them.
    previous = os.environ.get("DJANGO_ALLOW_ASYNC_UNSAFE")
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        yield launched
        launched.close()
    if previous is None:
        os.environ.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)
    else:
        os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = previous


@pytest.fixture
def page(browser: Browser) -> Iterator[Page]:
    context = browser.new_context(viewport=DESKTOP, accept_downloads=True)
    context.set_default_timeout(15_000)
    # Nothing beyond loopback: a page that needed a CDN would show it here, and tests never
    # reach out of the machine.
    context.route(re.compile(r"^(?!https?://(127\.0\.0\.1|localhost)[:/]).*"), lambda route: route.abort())
    opened = context.new_page()
    yield opened
    context.close()


@pytest.fixture
def portal_person(transactional_db: None) -> Callable[..., PortalPerson]:
    """Make a committed person (visible to the live server) in a tenant with a role."""

    def make(
        *, tenant: Tenant | None = None, role: str = "member", staff: bool = False,
        username: str | None = None, in_tenant: bool = True,
    ) -> PortalPerson:
        name = username or f"person{next(_sequence)}"
        user = get_user_model().objects.create_user(
            name, email=f"{name}@example.test", password=PASSWORD, is_staff=staff, is_superuser=staff
        )
        if in_tenant:
            tenant = tenant or Tenant.objects.create(name=f"team-{next(_sequence)}")
            TenantMembership.objects.create(user=user, tenant=tenant, role=role)
        return PortalPerson(name, PASSWORD, user, tenant)

    return make


def sign_in(page: Page, server: LiveServer, person: PortalPerson) -> None:
    page.goto(server.url + "/accounts/login/")
    page.get_by_label("Username").fill(person.username)
    page.get_by_label("Password").fill(person.password)
    page.get_by_role("button", name="Sign in", exact=True).click()
    page.wait_for_url(server.url + "/")


def axe_violations(page: Page) -> list[dict[str, Any]]:
    """axe-core's serious and critical violations on the page as it is now (WCAG 2.x A/AA rules)."""
    if not page.evaluate("() => typeof window.axe !== 'undefined'"):
        page.add_script_tag(content=AXE_SCRIPT.read_text())
    result = page.evaluate(
        """async () => {
            const r = await axe.run(document, {runOnly: {type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa', 'best-practice']}});
            return r.violations.map(v => ({id: v.id, impact: v.impact, help: v.help,
                nodes: v.nodes.slice(0, 5).map(n => n.target.join(' '))}));
        }"""
    )
    return [violation for violation in result if violation["impact"] in ("serious", "critical")]


def screenshot(page: Page, name: str) -> list[Path]:
    """The page in light and dark at desktop size, and light and dark at a phone's width."""
    ARTIFACTS.mkdir(exist_ok=True)
    paths = []
    viewport = page.viewport_size or DESKTOP
    for size_name, size in (("desktop", DESKTOP), ("phone", PHONE)):
        page.set_viewport_size(size)
        for scheme in ("light", "dark"):
            page.emulate_media(color_scheme=scheme)
            path = ARTIFACTS / f"{name}-{size_name}-{scheme}.png"
            page.screenshot(path=str(path), full_page=True)
            paths.append(path)
    page.emulate_media(color_scheme="light")
    page.set_viewport_size(viewport)
    return paths


def check_page(page: Page, name: str) -> None:
    """axe in both colour schemes (contrast differs), then the screenshots."""
    for scheme in ("light", "dark"):
        page.emulate_media(color_scheme=scheme)
        violations = axe_violations(page)
        assert violations == [], f"{name} ({scheme}): {violations}"
    page.emulate_media(color_scheme="light")
    screenshot(page, name)
