"""The portal in a real browser: sign-in, every page accessible (axe) in light and dark, styled
under Daphne with DEBUG off, and screenshots of each page under test-artifacts/."""

from __future__ import annotations

import httpx
from playwright.sync_api import Page, expect

from tests.browser import check_page, sign_in
from tests.live_server import LiveServer


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
    sign_in(page, live_server, admin)
    check_page(page, "home")
    page.goto(live_server.url + "/keys/")
    page.get_by_label("Name").fill("laptop")
    page.get_by_role("button", name="Create key").click()
    expect(page.locator("[data-secret]")).to_be_visible()
    check_page(page, "keys")
    page.goto(live_server.url + "/usage/")
    check_page(page, "usage")
    page.goto(f"{live_server.url}/usage/tenants/{admin.tenant.pk}/")
    check_page(page, "tenant-usage")
    page.goto(live_server.url + "/models/")
    expect(page.locator("[data-model='default']")).to_be_visible()
    check_page(page, "models")


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
