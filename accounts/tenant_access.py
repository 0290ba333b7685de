"""Who may see and manage which tenant (selectors; they never write).

Staff manage every tenant. A tenant *admin* manages that tenant's keys and members; a *member*
sees the tenant. Everything outside these querysets answers 404 in the management API, so a
tenant admin cannot even learn that another tenant's key exists.
"""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet

from accounts.models import ApiKey, AuditLogEntry, Tenant, TenantRole


def is_person(user: Any) -> bool:
    return bool(user is not None and user.is_authenticated and user.is_active)


def is_staff(user: Any) -> bool:
    return is_person(user) and bool(user.is_staff)


def visible_tenants(user: Any) -> QuerySet[Tenant]:
    if is_staff(user):
        return Tenant.objects.all()
    if not is_person(user):
        return Tenant.objects.none()
    return Tenant.objects.filter(memberships__user=user).distinct()


def administered_tenants(user: Any) -> QuerySet[Tenant]:
    if is_staff(user):
        return Tenant.objects.all()
    if not is_person(user):
        return Tenant.objects.none()
    return Tenant.objects.filter(memberships__user=user, memberships__role=TenantRole.ADMIN).distinct()


def administered_keys(user: Any) -> QuerySet[ApiKey]:
    keys = ApiKey.objects.select_related("tenant", "owner")
    if is_staff(user):
        return keys
    return keys.filter(tenant__in=administered_tenants(user))


def visible_audit_log(user: Any) -> QuerySet[AuditLogEntry]:
    entries = AuditLogEntry.objects.select_related("tenant")
    if is_staff(user):
        return entries
    return entries.filter(tenant__in=administered_tenants(user))
