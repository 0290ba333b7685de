"""The portal in a real browser: sign-in, every page accessible (axe) in light and dark, styled
under Daphne with DEBUG off, and screenshots of each page under test-artifacts/."""

from __future__ import annotations

from datetime import timedelta

import httpx
from django.utils import timezone
from playwright.sync_api import Page, expect

from accounts.models import ApiKey
from tests.browser import check_page, sign_in
from tests.live_server import LiveServer
from usage.models import UsageRollup


def test_signed_out_home_sends_to_the_sign_in_page(live_server: LiveServer, page: Page) -> None:
    page.goto(live_server.url + "/")
    expect(page).to_have_url(live_server.url + "/accounts/login/?next=/")
    expect(page.get_by_label("Username")).to_be_visible()
    expect(page.get_by_label("Password")).to_be_visible()
    expect(page.get_by_role("button", name="Sign in", exact=True)).to_be_visible()
    check_page(page, "sign-in")


def test_a_wrong_password_is_refused_and_a_right_one_signs_in(
    live_server: LiveServer, page: Page, portal_person
) -> None:
    person = portal_person()
    page.goto(live_server.url + "/accounts/login/")
    page.get_by_label("Username").fill(person.username)
    page.get_by_label("Password").fill("wrong")
    page.get_by_role("button", name="Sign in", exact=True).click()
    expect(page.get_by_role("alert")).to_contain_text("correct username and password")
    sign_in(page, live_server, person)
    expect(page.get_by_role("heading", level=1)).to_contain_text(f"Hello, {person.username}")
    expect(page.get_by_role("navigation", name="Main").get_by_role("link", name="Keys")).to_be_visible()


def test_every_portal_page_passes_axe_in_light_and_dark(
    live_server: LiveServer, page: Page, portal_person
) -> None:
    admin = portal_person(role="admin")
    admin.tenant.token_budget = 5_000_000
    admin.tenant.save()
    sign_in(page, live_server, admin)
    page.goto(live_server.url + "/keys/")
    page.get_by_label("Name").fill("laptop")
    page.get_by_role("button", name="Create key").click()
    expect(page.locator("[data-secret]")).to_be_visible()
    _three_weeks_of_usage(ApiKey.objects.get(owner=admin.user))
    page.reload()
    check_page(page, "keys")
    page.goto(live_server.url + "/")
    check_page(page, "home")
    page.goto(live_server.url + "/usage/")
    check_page(page, "usage")
    # htmx: changing the range swaps the page in place and keeps the URL shareable.
    page.get_by_label("Range", exact=True).select_option("7")
    expect(page).to_have_url(live_server.url + "/usage/?days=7")
    expect(page.locator("#usage-by-day tbody tr")).to_have_count(7)
    page.goto(f"{live_server.url}/usage/tenants/{admin.tenant.pk}/")
    check_page(page, "tenant-usage")
    page.get_by_role("link", name="members and limits").click()
    expect(page.locator(f'tr[data-member="{admin.username}"]')).to_contain_text("(you)")
    check_page(page, "members")
    page.goto(live_server.url + "/models/")
    expect(page.locator("[data-model='default']")).to_be_visible()
    check_page(page, "models")


def _three_weeks_of_usage(key: ApiKey) -> None:
    """Rollup cells as the usage writer leaves them: a realistic chart and burn-down to look at."""
    today = timezone.localdate()
    for offset in range(21):
        for model, scale in (("default", 1), ("fake-model", 3)):
            prompt = (40_000 + 9_000 * (offset % 5)) // scale
            UsageRollup.objects.create(
                day=today - timedelta(days=offset), tenant_id=key.tenant_id, api_key_id=key.pk, model=model,
                tenant_name=key.tenant.name, key_name=key.name, key_prefix=key.prefix,
                requests=120 // scale, prompt_tokens=prompt, cached_prompt_tokens=prompt // 4,
                content_tokens=prompt // 3, reasoning_tokens=prompt // 6, completion_tokens=prompt // 2,
            )


def test_static_files_are_served_with_debug_off(live_server: LiveServer, page: Page) -> None:
    response = httpx.get(live_server.url + "/static/admin/css/base.css")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/css")
    page.goto(live_server.url + "/admin/login/")
    # Django admin's stylesheet colours its header: unstyled, it would be transparent.
    header_background = page.locator("#header").evaluate("e => getComputedStyle(e).backgroundColor")
    assert header_background not in ("rgba(0, 0, 0, 0)", "transparent")
    assert httpx.get(live_server.url + "/static/portal/portal.css").status_code == 200
    assert httpx.get(live_server.url + "/static/vendor/htmx/htmx.min.js").status_code == 200


def test_the_portal_works_from_the_keyboard_with_a_visible_focus(
    live_server: LiveServer, page: Page, portal_person
) -> None:
    person = portal_person()
    page.goto(live_server.url + "/accounts/login/")
    expect(page.get_by_label("Username")).to_be_focused()
    page.keyboard.type(person.username)
    page.keyboard.press("Tab")
    expect(page.get_by_label("Password")).to_be_focused()
    page.keyboard.type(person.password)
    page.keyboard.press("Tab")
    expect(page.get_by_role("button", name="Sign in", exact=True)).to_be_focused()
    page.keyboard.press("Enter")
    expect(page).to_have_url(live_server.url + "/")
    page.keyboard.press("Tab")
    skip = page.get_by_role("link", name="Skip to content")
    expect(skip).to_be_focused()
    expect(skip).to_be_in_viewport()
    assert skip.evaluate("e => getComputedStyle(e).outlineStyle") != "none"
    page.keyboard.press("Tab")
    page.keyboard.press("Tab")  # the brand link, then the first navigation link
    expect(page.get_by_role("navigation", name="Main").get_by_role("link", name="Home")).to_be_focused()
