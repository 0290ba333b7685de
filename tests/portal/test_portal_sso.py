"""Single sign-on end to end: a real OpenID provider process, a live Daphne, a real browser.

People are created at their first sign-in; their memberships follow their groups at every
sign-in, removals included; a key of a person who left the tenant stops working."""

from __future__ import annotations

from collections.abc import Callable, Iterator

import openai
import pytest
from django.contrib.auth import get_user_model
from playwright.sync_api import Page, expect

from accounts.models import AuditLogEntry, Tenant, TenantMembership
from tests.browser import check_page
from tests.fake_paddler import FakePaddlerServer
from tests.fake_paddler_scripts import plain_content
from tests.live_server import LiveServer
from tests.portal.oidc_provider import OidcProvider

SUB = "alice@corp.test"
GROUP_MAP = "eng=engineering:member,eng-leads=engineering:admin,research=research:member"


@pytest.fixture
def oidc_provider() -> Iterator[OidcProvider]:
    provider = OidcProvider().start()
    yield provider
    provider.stop()


@pytest.fixture
def sso_server(
    transactional_db: None, oidc_provider: OidcProvider, live_server_factory: Callable[..., LiveServer]
) -> LiveServer:
    return live_server_factory({
        "OARLOCK_OIDC_ISSUER": oidc_provider.issuer,
        "OARLOCK_OIDC_CLIENT_ID": "oarlock-portal",
        "OARLOCK_OIDC_CLIENT_SECRET": "test-client-secret",
        "OARLOCK_OIDC_GROUP_MAP": GROUP_MAP,
        "OARLOCK_OIDC_PROVIDER_NAME": "Corp SSO",
    })


def _sso_sign_in(page: Page, server: LiveServer) -> None:
    page.goto(server.url + "/accounts/login/")
    page.get_by_role("button", name="Sign in with Corp SSO").click()
    page.locator("input[name=sub]").fill(SUB)  # the provider's own sign-in form
    page.get_by_role("button", name="Authorize").click()


def _memberships() -> dict[str, str]:
    return dict(TenantMembership.objects.filter(user__email=SUB).values_list("tenant__name", "role"))


def test_sso_creates_the_person_and_reconciles_groups_at_every_sign_in(
    sso_server: LiveServer, oidc_provider: OidcProvider, page: Page, fake_paddler: FakePaddlerServer
) -> None:
    engineering = Tenant.objects.create(name="engineering")
    Tenant.objects.create(name="research")
    handmade = Tenant.objects.create(name="handmade")
    oidc_provider.set_user(SUB, email=SUB, preferred_username="alice", groups=["eng", "eng-leads"])

    _sso_sign_in(page, sso_server)
    expect(page.get_by_role("heading", level=1)).to_have_text("Hello, alice")
    alice = get_user_model().objects.get(username="alice")
    assert _memberships() == {"engineering": "admin"}
    # A membership in a tenant the group map does not name is not SSO's to change.
    TenantMembership.objects.create(user=alice, tenant=handmade, role="member")

    page.goto(sso_server.url + "/keys/")
    page.get_by_label("Name").fill("eng laptop")
    page.get_by_label("Tenant", exact=True).select_option(label="engineering")
    page.get_by_role("button", name="Create key").click()
    secret = page.locator("[data-secret]").inner_text().strip()
    fake_paddler.script(plain_content("hi"))
    client = openai.OpenAI(base_url=sso_server.base_url, api_key=secret, max_retries=0, timeout=30)
    assert client.chat.completions.create(model="default", messages=[{"role": "user", "content": "x"}]).id

    # Moved from engineering to research in the identity provider: the next sign-in follows.
    oidc_provider.set_user(SUB, email=SUB, preferred_username="alice", groups=["research"])
    page.get_by_role("button", name="Sign out").click()
    _sso_sign_in(page, sso_server)
    expect(page.get_by_role("heading", level=1)).to_have_text("Hello, alice")
    assert _memberships() == {"research": "member", "handmade": "member"}
    removed = AuditLogEntry.objects.get(action="member.removed", tenant=engineering)
    assert "alice" in removed.target_label
    with pytest.raises(openai.AuthenticationError):
        client.chat.completions.create(model="default", messages=[{"role": "user", "content": "x"}])
    client.close()
    page.goto(sso_server.url + f"/usage/tenants/{engineering.pk}/")
    expect(page.get_by_role("heading", level=1)).not_to_contain_text("engineering")

    # In no mapped group any more (and the hand-made membership gone too): no way in.
    TenantMembership.objects.filter(user=alice, tenant=handmade).delete()
    oidc_provider.set_user(SUB, email=SUB, preferred_username="alice", groups=["marketing"])
    page.context.clear_cookies()
    _sso_sign_in(page, sso_server)
    expect(page).to_have_url(sso_server.url + "/accounts/login/?sso=failed")
    expect(page.get_by_role("alert")).to_contain_text("no access")
    check_page(page, "sign-in-sso-refused")
    assert _memberships() == {}
    page.goto(sso_server.url + "/keys/")
    expect(page).to_have_url(sso_server.url + "/accounts/login/?next=/keys/")
