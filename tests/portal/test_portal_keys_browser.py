"""A person's key from the browser to the SDK and back: create it, use it with the official
``openai`` SDK, see its tokens on the usage page, export them as CSV, revoke it and see 401."""

from __future__ import annotations

import csv
import io
import time

import openai
import pytest
from playwright.sync_api import Page, expect

from accounts.models import ApiKey
from paddler_protocol.token_usage import TokenUsage
from tests.browser import sign_in
from tests.factories import make_api_key
from tests.fake_paddler import FakePaddlerServer
from tests.fake_paddler_scripts import plain_content
from tests.live_server import LiveServer
from tests.usage.record_polling import wait_for_record

USAGE = TokenUsage(prompt_tokens=1234, cached_prompt_tokens=200, content_tokens=3, reasoning_tokens=55)


def _total_on_usage_page(page: Page, server: LiveServer, expected: str, timeout: float = 10.0) -> None:
    """The usage page shows ``expected`` total tokens (rollups commit just after the records)."""
    deadline = time.monotonic() + timeout
    total = page.locator('[data-total="total_tokens"]')
    while True:
        page.goto(server.url + "/usage/")
        if total.inner_text().strip() == expected or time.monotonic() > deadline:
            break
        time.sleep(0.2)
    expect(total).to_have_text(expected)


def test_a_key_made_in_the_browser_works_shows_its_usage_exports_and_revokes(
    live_server: LiveServer, page: Page, portal_person, fake_paddler: FakePaddlerServer
) -> None:
    person = portal_person()
    sign_in(page, live_server, person)
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Keys").click()
    page.get_by_label("Name").fill("sdk key")
    page.get_by_role("button", name="Create key").click()
    secret = page.locator("[data-secret]").inner_text().strip()
    assert secret.startswith("oar_")
    page.context.grant_permissions(["clipboard-read", "clipboard-write"], origin=live_server.url)
    page.get_by_role("button", name="Copy").click()
    expect(page.get_by_role("button", name="Copied")).to_be_visible()
    assert page.evaluate("navigator.clipboard.readText()").strip() == secret
    key = ApiKey.objects.get(owner=person.user)
    assert (key.name, key.tenant_id, key.expires_at is not None) == ("sdk key", person.tenant.pk, True)
    page.reload()  # posts the form again: creates nothing, shows no secret
    expect(page.locator("[data-secret]")).to_have_count(0)
    assert secret not in page.content()
    assert ApiKey.objects.filter(owner=person.user).count() == 1

    fake_paddler.script(plain_content("a", "b", "c", usage=USAGE))
    client = openai.OpenAI(base_url=live_server.base_url, api_key=secret, max_retries=0, timeout=30)
    reply = client.chat.completions.create(model="default", messages=[{"role": "user", "content": "Hi"}])
    assert reply.choices[0].message.content == "abc"
    wait_for_record(api_key_id=key.pk)

    _total_on_usage_page(page, live_server, f"{USAGE.total_tokens:,}")
    expect(page.locator('[data-total="reasoning_tokens"]')).to_have_text("55")
    expect(page.locator('[data-total="prompt_tokens"]')).to_have_text("1,234")
    expect(page.locator("#usage-by-key")).to_contain_text("sdk key")
    expect(page.locator("#usage-by-model")).to_contain_text("default")

    with page.expect_download() as download_info:
        page.get_by_role("link", name="Export CSV by key").click()
    rows = list(csv.DictReader(io.StringIO(download_info.value.path().read_text())))
    assert [(row["key"], row["key_prefix"], row["total_tokens"], row["reasoning_tokens"]) for row in rows] == [
        ("sdk key", key.prefix, str(USAGE.total_tokens), "55")
    ]

    page.goto(live_server.url + "/keys/")
    expect(page.locator(f'tr[data-key-id="{key.pk}"] [data-tokens]')).to_have_text(f"{USAGE.total_tokens:,}")
    page.get_by_role("button", name=f"Revoke sdk key ({key.prefix}…)").click()
    expect(page.get_by_role("status").first).to_contain_text("Revoked")
    expect(page.locator(f'tr[data-key-id="{key.pk}"]')).to_contain_text("revoked")
    with pytest.raises(openai.AuthenticationError) as refused:
        client.chat.completions.create(model="default", messages=[{"role": "user", "content": "Hi"}])
    assert refused.value.status_code == 401
    client.close()


def test_a_member_is_blocked_from_a_tenant_admin_page(live_server: LiveServer, page: Page, portal_person) -> None:
    member = portal_person(role="member")
    sign_in(page, live_server, member)
    response = page.goto(f"{live_server.url}/usage/tenants/{member.tenant.pk}/")
    assert response is not None and response.status == 404
    page.goto(live_server.url + "/")
    expect(page.get_by_role("link", name="tenant usage")).to_have_count(0)
    page.goto(live_server.url + "/admin/")
    expect(page).to_have_url(f"{live_server.url}/admin/login/?next=/admin/")


def test_rotation_shows_the_new_secret_once_and_the_old_one_stops_without_grace(
    live_server: LiveServer, page: Page, portal_person, fake_paddler: FakePaddlerServer
) -> None:
    person = portal_person()
    sign_in(page, live_server, person)
    page.goto(live_server.url + "/keys/")
    page.get_by_label("Name").fill("rotating")
    page.get_by_role("button", name="Create key").click()
    old = page.locator("[data-secret]").inner_text().strip()
    key = ApiKey.objects.get(owner=person.user)
    page.goto(live_server.url + "/keys/")
    page.get_by_text("Rotate", exact=True).click()
    page.get_by_label("Old secret keeps working for").select_option("0")
    page.get_by_role("button", name="Rotate “rotating”").click()
    new = page.locator("[data-secret]").inner_text().strip()
    assert new.startswith("oar_") and new != old
    fake_paddler.script(plain_content("ok"))
    with openai.OpenAI(base_url=live_server.base_url, api_key=new, max_retries=0) as client:
        assert client.chat.completions.create(model="default", messages=[{"role": "user", "content": "x"}]).id
    with (
        openai.OpenAI(base_url=live_server.base_url, api_key=old, max_retries=0) as client,
        pytest.raises(openai.AuthenticationError),
    ):
        client.chat.completions.create(model="default", messages=[{"role": "user", "content": "x"}])
    assert ApiKey.objects.get(pk=key.pk).prefix != key.prefix


def test_a_tenant_admin_lowers_a_members_key_rpm_in_the_browser_and_the_api_enforces_it(
    live_server: LiveServer, page: Page, portal_person, fake_paddler: FakePaddlerServer
) -> None:
    admin = portal_person(role="admin")
    member = portal_person(tenant=admin.tenant)
    key, secret = make_api_key(admin.tenant, name="members", owner=member.user)
    sign_in(page, live_server, admin)
    page.goto(live_server.url + "/keys/")
    page.get_by_role("link", name=f"Edit limits of members ({key.prefix}…)").click()
    page.get_by_label("Requests per minute").fill("1")
    page.get_by_role("button", name="Save limits").click()
    expect(page).to_have_url(live_server.url + "/keys/")
    fake_paddler.script(plain_content("ok"), plain_content("ok"))
    with openai.OpenAI(base_url=live_server.base_url, api_key=secret, max_retries=0) as client:
        assert client.chat.completions.create(model="default", messages=[{"role": "user", "content": "x"}]).id
        with pytest.raises(openai.RateLimitError):
            client.chat.completions.create(model="default", messages=[{"role": "user", "content": "x"}])
