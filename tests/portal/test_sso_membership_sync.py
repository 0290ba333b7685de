"""The group map and the membership reconciliation behind every SSO sign-in."""

from __future__ import annotations

import pytest
from django.contrib.auth import get_user_model
from django.core.exceptions import ImproperlyConfigured

from accounts.models import AuditLogEntry, Tenant, TenantMembership
from portal.oidc_group_map import GroupGrant, parse_group_map
from portal.sso_membership_sync import sync_sso_memberships

MAP = parse_group_map("eng=engineering:member, eng-leads=engineering:admin,ops=operations")


def test_the_group_map_parses_and_gives_the_highest_role() -> None:
    assert MAP.grants[2] == GroupGrant("ops", "operations", "member")
    assert MAP.managed_tenants == {"engineering", "operations"}
    assert MAP.roles_for(["eng", "eng-leads", "other"]) == {"engineering": "admin"}
    assert MAP.roles_for(["eng-leads", "eng"]) == {"engineering": "admin"}
    assert MAP.roles_for(["ops"]) == {"operations": "member"}
    assert MAP.roles_for([]) == {}


@pytest.mark.parametrize("raw", ["eng", "eng=", "=t:member", "eng=t:owner"])
def test_a_malformed_group_map_is_refused(raw: str) -> None:
    with pytest.raises(ImproperlyConfigured):
        parse_group_map(raw)


@pytest.mark.django_db
def test_sync_adds_changes_and_removes_only_in_managed_tenants() -> None:
    Tenant.objects.create(name="engineering")
    Tenant.objects.create(name="operations")
    other = Tenant.objects.create(name="other")
    user = get_user_model().objects.create_user("dee")
    TenantMembership.objects.create(user=user, tenant=other, role="admin")

    sync_sso_memberships(user=user, groups=["eng", "ops"], group_map=MAP)
    assert _roles(user) == {"engineering": "member", "operations": "member", "other": "admin"}
    sync_sso_memberships(user=user, groups=["eng-leads"], group_map=MAP)
    assert _roles(user) == {"engineering": "admin", "other": "admin"}
    sync_sso_memberships(user=user, groups=[], group_map=MAP)
    assert _roles(user) == {"other": "admin"}
    actions = list(AuditLogEntry.objects.order_by("id").values_list("action", "tenant__name"))
    assert actions == [
        ("member.added", "engineering"), ("member.added", "operations"),
        ("member.role_changed", "engineering"), ("member.removed", "operations"),
        ("member.removed", "engineering"),
    ]


def _roles(user: object) -> dict[str, str]:
    return dict(TenantMembership.objects.filter(user=user).values_list("tenant__name", "role"))
