"""Staff act with their Django model permissions: view-only staff can look but change nothing."""

from __future__ import annotations

import base64
import re
from typing import Any

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Permission
from django.test import Client

from accounts.admin_token_lifecycle import create_admin_token
from accounts.models import AdminToken, ApiKey, Tenant, TenantMembership
from tests.factories import make_api_key, make_tenant

pytestmark = pytest.mark.django_db

FULL_SECRET = re.compile(r"oar_[A-Za-z0-9_-]{43}")


def staff(username: str, *codenames: str) -> Any:
    user = get_user_model().objects.create_user(username, password="right-password", is_staff=True)
    user.user_permissions.set(Permission.objects.filter(codename__in=codenames))
    return user


def client_for(user: Any) -> Client:
    client = Client()
    client.force_login(user)
    return client


def post(client: Client, url: str, data: Any = None) -> Any:
    return client.post(url, data or {}, content_type="application/json")


@pytest.fixture
def viewer() -> Client:
    return client_for(staff("viewer", "view_apikey", "view_tenant", "view_tenantmembership", "view_auditlogentry"))


@pytest.fixture
def acme() -> Tenant:
    return make_tenant("acme")


def test_view_only_staff_list_every_key(viewer: Client, acme: Tenant) -> None:
    key, _ = make_api_key(acme)
    response = viewer.get("/api/keys/")
    assert response.status_code == 200
    assert [item["id"] for item in response.json()["results"]] == [key.pk]
    assert viewer.get(f"/api/keys/{key.pk}/").status_code == 200


def test_view_only_staff_cannot_rotate_a_key_or_read_a_new_secret(viewer: Client, acme: Tenant) -> None:
    key, _ = make_api_key(acme)
    response = post(viewer, f"/api/keys/{key.pk}/rotate/")
    assert response.status_code == 403
    assert "secret" not in response.json()
    assert ApiKey.objects.get(pk=key.pk).secret_hash == key.secret_hash


def test_view_only_staff_cannot_create_change_or_revoke_keys(viewer: Client, acme: Tenant) -> None:
    key, _ = make_api_key(acme)
    assert post(viewer, "/api/keys/", {"tenant": acme.pk, "name": "sneaky"}).status_code == 403
    assert viewer.patch(f"/api/keys/{key.pk}/", {"rpm": 1}, content_type="application/json").status_code == 403
    assert post(viewer, f"/api/keys/{key.pk}/revoke/").status_code == 403
    key.refresh_from_db()
    assert (key.rpm, key.revoked_at) == (None, None)
    assert not ApiKey.objects.filter(name="sneaky").exists()


def test_view_only_staff_cannot_create_or_change_tenants_or_members(viewer: Client, acme: Tenant) -> None:
    get_user_model().objects.create_user("bob")
    assert viewer.get(f"/api/tenants/{acme.pk}/").status_code == 200
    assert viewer.get(f"/api/tenants/{acme.pk}/members/").status_code == 200
    assert post(viewer, "/api/tenants/", {"name": "new"}).status_code == 403
    assert viewer.patch(f"/api/tenants/{acme.pk}/", {"rpm": 1}, content_type="application/json").status_code == 403
    assert post(viewer, f"/api/tenants/{acme.pk}/members/", {"user": "bob"}).status_code == 403
    assert not Tenant.objects.filter(name="new").exists()
    assert not TenantMembership.objects.exists()


def test_staff_without_any_permission_see_no_keys(acme: Tenant) -> None:
    make_api_key(acme)
    response = client_for(staff("nobody")).get("/api/keys/")
    assert response.status_code == 200 and response.json()["results"] == []


def test_staff_with_the_add_and_change_permissions_create_and_rotate(acme: Tenant) -> None:
    keeper = client_for(staff("keeper", "view_apikey", "add_apikey", "change_apikey"))
    created = post(keeper, "/api/keys/", {"tenant": acme.pk, "name": "ci"})
    assert created.status_code == 201
    rotated = post(keeper, f"/api/keys/{created.json()['id']}/rotate/", {"grace_seconds": 0})
    assert rotated.status_code == 200 and rotated.json()["secret"].startswith("oar_")


def test_the_admin_does_not_offer_or_run_rotation_for_view_only_staff(acme: Tenant) -> None:
    key, _ = make_api_key(acme)
    viewer = client_for(staff("viewer", "view_apikey"))
    changelist = viewer.get("/admin/accounts/apikey/")
    assert changelist.status_code == 200
    assert "rotate_now" not in changelist.content.decode()
    response = viewer.post("/admin/accounts/apikey/", {"action": "rotate_now", "_selected_action": [key.pk]})
    assert not FULL_SECRET.search(response.content.decode())
    assert ApiKey.objects.get(pk=key.pk).secret_hash == key.secret_hash
    viewer.post("/admin/accounts/apikey/", {"action": "revoke_selected", "_selected_action": [key.pk]})
    assert ApiKey.objects.get(pk=key.pk).revoked_at is None


def test_the_admin_runs_rotation_for_staff_with_the_change_permission(acme: Tenant) -> None:
    key, _ = make_api_key(acme)
    keeper = client_for(staff("keeper", "view_apikey", "change_apikey"))
    response = keeper.post("/admin/accounts/apikey/", {"action": "rotate_now", "_selected_action": [key.pk]})
    assert FULL_SECRET.search(response.content.decode())
    assert ApiKey.objects.get(pk=key.pk).secret_hash != key.secret_hash


def test_view_only_staff_cannot_revoke_someone_elses_admin_token_in_the_admin() -> None:
    token = create_admin_token(user=get_user_model().objects.create_user("erin"), name="cli").token
    viewer = client_for(staff("viewer", "view_admintoken"))
    viewer.post("/admin/accounts/admintoken/", {"action": "revoke_selected", "_selected_action": [token.pk]})
    assert AdminToken.objects.get(pk=token.pk).revoked_at is None
    revoker = client_for(staff("revoker", "view_admintoken", "change_admintoken"))
    revoker.post("/admin/accounts/admintoken/", {"action": "revoke_selected", "_selected_action": [token.pk]})
    assert AdminToken.objects.get(pk=token.pk).revoked_at is not None


def test_the_management_api_does_not_accept_http_basic(acme: Tenant) -> None:
    get_user_model().objects.create_superuser("root", password="right-password")
    basic = "Basic " + base64.b64encode(b"root:right-password").decode()
    response = Client().get("/api/keys/", HTTP_AUTHORIZATION=basic)
    assert response.status_code == 401
    assert "Basic" not in response["WWW-Authenticate"]
