"""The admin goes through the services: rotation shows the new secret once; changes are audited."""

from __future__ import annotations

import re

import pytest
from django.contrib.auth import get_user_model
from django.test import Client

from accounts.api_key_secret import hash_api_key
from accounts.models import ApiKey, AuditLogEntry, TenantMembership
from tests.factories import make_api_key, make_tenant

pytestmark = pytest.mark.django_db


def test_the_rotate_action_shows_the_new_secret_once_and_keeps_the_old_one_for_a_while(admin_client: Client) -> None:
    api_key, old_secret = make_api_key()
    response = admin_client.post(
        "/admin/accounts/apikey/", {"action": "rotate_with_grace", "_selected_action": [api_key.pk]}
    )
    assert response.status_code == 200
    assert "no-store" in response["Cache-Control"]
    page = response.content.decode()
    new_secret = re.search(r"(oar_[A-Za-z0-9_-]{43})", page).group(1)
    assert "keeps working until" in page
    api_key.refresh_from_db()
    assert api_key.secret_hash == hash_api_key(new_secret)
    assert api_key.previous_secret_hash == hash_api_key(old_secret)
    assert new_secret not in admin_client.get(f"/admin/accounts/apikey/{api_key.pk}/change/").content.decode()
    assert AuditLogEntry.objects.get(action="api_key.rotated").actor_label == "admin"


def test_rotating_needs_exactly_one_selected_key(admin_client: Client) -> None:
    first, _ = make_api_key()
    second, _ = make_api_key()
    response = admin_client.post(
        "/admin/accounts/apikey/", {"action": "rotate_now", "_selected_action": [first.pk, second.pk]}, follow=True
    )
    assert "Rotate one key at a time" in response.content.decode()
    assert not AuditLogEntry.objects.filter(action="api_key.rotated").exists()


def _change_form(api_key: ApiKey, **overrides: object) -> dict[str, object]:
    data: dict[str, object] = {
        "name": api_key.name,
        "notes": "",
        "budget_period": "month",
        "allowed_models": "[]",
        "rpm": "",
        "tpm": "",
        "max_concurrent": "",
        "token_budget": "",
        "owner": "",
        "expires_at_0": "",
        "expires_at_1": "",
    }
    data.update(overrides)
    return data


def test_changing_a_keys_limits_in_the_admin_is_audited(admin_client: Client) -> None:
    api_key, _ = make_api_key(make_tenant(rpm=100))
    response = admin_client.post(f"/admin/accounts/apikey/{api_key.pk}/change/", _change_form(api_key, rpm="40"))
    assert response.status_code == 302, response.content.decode()[:3000]
    entry = AuditLogEntry.objects.get(action="api_key.updated")
    assert entry.changes == {"rpm": {"before": None, "after": 40}}
    assert entry.actor_label == "admin"


def test_the_admin_refuses_a_key_limit_above_the_tenants(admin_client: Client) -> None:
    api_key, _ = make_api_key(make_tenant(rpm=100))
    response = admin_client.post(f"/admin/accounts/apikey/{api_key.pk}/change/", _change_form(api_key, rpm="101"))
    assert response.status_code == 200
    assert "cannot exceed its tenant" in response.content.decode()
    api_key.refresh_from_db()
    assert api_key.rpm is None


def test_adding_a_member_in_the_tenant_admin_is_audited(admin_client: Client) -> None:
    tenant = make_tenant("acme")
    bob = get_user_model().objects.create_user("bob")
    response = admin_client.post(
        f"/admin/accounts/tenant/{tenant.pk}/change/",
        {
            "name": "acme",
            "is_active": "on",
            "budget_period": "month",
            "allowed_models": "[]",
            "rpm": "5",
            "memberships-TOTAL_FORMS": "1",
            "memberships-INITIAL_FORMS": "0",
            "memberships-0-user": bob.pk,
            "memberships-0-role": "admin",
            "api_keys-TOTAL_FORMS": "0",
            "api_keys-INITIAL_FORMS": "0",
        },
    )
    assert response.status_code == 302, response.content.decode()[:3000]
    assert TenantMembership.objects.get(tenant=tenant, user=bob).role == "admin"
    assert set(AuditLogEntry.objects.values_list("action", flat=True)) == {"tenant.updated", "member.added"}


def test_the_audit_log_is_visible_and_read_only_in_the_admin(admin_client: Client) -> None:
    make_api_key()
    admin_client.post(
        "/admin/accounts/apikey/",
        {
            "action": "revoke_selected",
            "_selected_action": list(ApiKey.objects.values_list("pk", flat=True)),
        },
    )
    entry = AuditLogEntry.objects.get(action="api_key.revoked")
    assert "api_key.revoked" in admin_client.get("/admin/accounts/auditlogentry/").content.decode()
    assert admin_client.get("/admin/accounts/auditlogentry/add/").status_code == 403
    assert admin_client.get(f"/admin/accounts/auditlogentry/{entry.pk}/delete/").status_code == 403
    detail = admin_client.get(f"/admin/accounts/auditlogentry/{entry.pk}/change/").content.decode()
    assert 'name="action"' not in detail  # shown, not editable
