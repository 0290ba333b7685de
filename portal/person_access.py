"""What the signed-in person may see in the portal (selectors; they never write).

Three roles, checked here and nowhere else: a *member* sees their own keys and usage; a tenant
*admin* also sees the tenant's keys, usage and members; *staff* administer every tenant. Every
lookup by id goes through these querysets, so anything outside them answers 404: a person
cannot learn that another member's key, or another tenant, exists.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.db.models import Q, QuerySet
from django.http import Http404

from accounts.models import ApiKey, Tenant, TenantMembership, TenantRole
from accounts.tenant_access import administered_tenants, is_person, is_staff


@dataclass(frozen=True, slots=True)
class PortalTenant:
    """A tenant as the person sees it: with their role in it."""

    tenant: Tenant
    is_admin: bool


def portal_tenants(user: Any) -> list[PortalTenant]:
    """The tenants the person belongs to (staff: every tenant), with their role."""
    if not is_person(user):
        return []
    roles = dict(
        TenantMembership.objects.filter(user=user).values_list("tenant_id", "role")
    )
    tenants = Tenant.objects.all() if is_staff(user) else Tenant.objects.filter(pk__in=roles)
    return [
        PortalTenant(tenant, is_staff(user) or roles.get(tenant.pk) == TenantRole.ADMIN)
        for tenant in tenants.order_by("name")
    ]


def member_tenants(user: Any) -> QuerySet[Tenant]:
    """Tenants where the person may hold keys of their own: their memberships, staff included."""
    if not is_person(user):
        return Tenant.objects.none()
    return Tenant.objects.filter(memberships__user=user, is_active=True).distinct()


def own_keys(user: Any) -> QuerySet[ApiKey]:
    """The person's keys in tenants they still belong to."""
    if not is_person(user):
        return ApiKey.objects.none()
    return ApiKey.objects.select_related("tenant").filter(
        owner=user, tenant__memberships__user=user
    ).distinct()


def manageable_keys(user: Any) -> QuerySet[ApiKey]:
    """Keys the person may revoke or rotate: their own, plus every key of a tenant they administer."""
    if not is_person(user):
        return ApiKey.objects.none()
    keys = ApiKey.objects.select_related("tenant", "owner")
    if is_staff(user):
        return keys
    return keys.filter(
        Q(pk__in=own_keys(user).values("pk")) | Q(tenant__in=administered_tenants(user))
    )


def administered_tenant_or_404(user: Any, tenant_id: int) -> Tenant:
    tenant = administered_tenants(user).filter(pk=tenant_id).first()
    if tenant is None:
        raise Http404("No such tenant.")
    return tenant


def manageable_key_or_404(user: Any, key_id: int) -> ApiKey:
    key = manageable_keys(user).filter(pk=key_id).first()
    if key is None:
        raise Http404("No such key.")
    return key


def member_tenant_or_404(user: Any, tenant_id: int) -> Tenant:
    tenant = member_tenants(user).filter(pk=tenant_id).first()
    if tenant is None:
        raise Http404("No such tenant.")
    return tenant
