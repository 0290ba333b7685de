"""What the signed-in person may see in the portal (selectors; they never write).

Three roles, checked here and nowhere else: a *member* sees their own keys and usage; a tenant
*admin* also sees the tenant's keys, usage and members; *staff* act on every tenant with their
Django model permissions, as in the admin and the management API (view-only staff only view). Every
lookup by id goes through these querysets, so anything outside them answers 404: a person
cannot learn that another member's key, or another tenant, exists.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.db.models import Model, Q, QuerySet
from django.http import Http404

from accounts.models import ApiKey, Tenant
from accounts.tenant_access import PermissionAction, administered_tenants, is_person, visible_tenants


@dataclass(frozen=True, slots=True)
class PortalTenant:
    """A tenant as the person sees it: with their role in it."""

    tenant: Tenant
    is_admin: bool


def portal_tenants(user: Any) -> list[PortalTenant]:
    """The tenants the person belongs to (staff who may view tenants: every tenant), and
    whether they administer each."""
    if not is_person(user):
        return []
    administered = set(administered_tenants(user).values_list("pk", flat=True))
    return [PortalTenant(tenant, tenant.pk in administered) for tenant in visible_tenants(user).order_by("name")]


def member_tenants(user: Any) -> QuerySet[Tenant]:
    """Tenants where the person may hold keys of their own: their memberships, staff included."""
    if not is_person(user):
        return Tenant.objects.none()
    return Tenant.objects.filter(memberships__user=user, is_active=True).distinct()


def own_keys(user: Any) -> QuerySet[ApiKey]:
    """The person's keys in tenants they still belong to."""
    if not is_person(user):
        return ApiKey.objects.none()
    return ApiKey.objects.select_related("tenant").filter(owner=user, tenant__memberships__user=user).distinct()


def manageable_keys(user: Any) -> QuerySet[ApiKey]:
    """Keys the person may revoke or rotate: their own, plus every key of a tenant they administer."""
    if not is_person(user):
        return ApiKey.objects.none()
    keys = ApiKey.objects.select_related("tenant", "owner")
    return keys.filter(
        Q(pk__in=own_keys(user).values("pk")) | Q(tenant__in=administered_tenants(user, action="change"))
    )


def editable_keys(user: Any) -> QuerySet[ApiKey]:
    """Live keys whose limits the person may edit: those of tenants where they may change keys
    (a tenant admin's tenants; every tenant for staff with ``change_apikey``)."""
    if not is_person(user):
        return ApiKey.objects.none()
    keys = ApiKey.objects.select_related("tenant", "owner").filter(revoked_at__isnull=True)
    return keys.filter(tenant__in=administered_tenants(user, action="change"))


def editable_tenant_ids(user: Any) -> set[int]:
    if not is_person(user):
        return set()
    return set(administered_tenants(user, action="change").values_list("pk", flat=True))


def administered_tenant_or_404(
    user: Any, tenant_id: int, *, model: type[Model] = ApiKey, action: PermissionAction = "view"
) -> Tenant:
    """The tenant if the person may ``action`` its ``model`` objects (a tenant admin may)."""
    tenant = administered_tenants(user, model=model, action=action).filter(pk=tenant_id).first()
    if tenant is None:
        raise Http404("No such tenant.")
    return tenant


def manageable_key_or_404(user: Any, key_id: int) -> ApiKey:
    key = manageable_keys(user).filter(pk=key_id).first()
    if key is None:
        raise Http404("No such key.")
    return key


def editable_key_or_404(user: Any, key_id: int) -> ApiKey:
    key = editable_keys(user).filter(pk=key_id).first()
    if key is None:
        raise Http404("No such key.")
    return key


def member_tenant_or_404(user: Any, tenant_id: int) -> Tenant:
    tenant = member_tenants(user).filter(pk=tenant_id).first()
    if tenant is None:
        raise Http404("No such tenant.")
    return tenant
