"""Who may see and manage which tenant (selectors; they never write).

A tenant *admin* manages that tenant's keys and members; a *member* sees the tenant. Staff act
on every tenant, but only as far as their Django model permissions go — the same permissions the
admin site enforces (superusers hold them all; ``change`` implies ``view``, as in the admin). A
view-only staff user sees every key and changes none. Everything outside these querysets answers
404 in the management API, so a tenant admin cannot even learn that another tenant's key exists.
"""

from __future__ import annotations

from typing import Any, Literal

from django.db.models import Model, QuerySet

from accounts.models import ApiKey, AuditLogEntry, Tenant, TenantRole

PermissionAction = Literal["view", "add", "change", "delete"]


def is_person(user: Any) -> bool:
    return bool(user is not None and user.is_authenticated and user.is_active)


def is_staff(user: Any) -> bool:
    return is_person(user) and bool(user.is_staff)


def has_model_permission(user: Any, model: type[Model], action: PermissionAction) -> bool:
    """Whether ``user`` is staff holding Django's ``action`` permission on ``model``."""
    if not is_staff(user):
        return False
    opts = model._meta
    actions = (action, "change") if action == "view" else (action,)
    return any(user.has_perm(f"{opts.app_label}.{name}_{opts.model_name}") for name in actions)


def visible_tenants(user: Any) -> QuerySet[Tenant]:
    if has_model_permission(user, Tenant, "view"):
        return Tenant.objects.all()
    if not is_person(user):
        return Tenant.objects.none()
    return Tenant.objects.filter(memberships__user=user).distinct()


def administered_tenants(
    user: Any, *, model: type[Model] = ApiKey, action: PermissionAction = "view"
) -> QuerySet[Tenant]:
    """Tenants in which ``user`` may ``action`` objects of ``model``: all of them with the staff
    model permission, else the tenants they are an admin of."""
    if has_model_permission(user, model, action):
        return Tenant.objects.all()
    if not is_person(user):
        return Tenant.objects.none()
    return Tenant.objects.filter(memberships__user=user, memberships__role=TenantRole.ADMIN).distinct()


def administered_keys(user: Any, *, action: PermissionAction = "view") -> QuerySet[ApiKey]:
    keys = ApiKey.objects.select_related("tenant", "owner")
    if has_model_permission(user, ApiKey, action):
        return keys
    return keys.filter(tenant__in=administered_tenants(user, action=action))


def visible_audit_log(user: Any) -> QuerySet[AuditLogEntry]:
    entries = AuditLogEntry.objects.select_related("tenant")
    if has_model_permission(user, AuditLogEntry, "view"):
        return entries
    return entries.filter(tenant__in=administered_tenants(user, model=AuditLogEntry))
