"""The tenants a person may use the playground in (selector)."""

from __future__ import annotations

from django.contrib.auth.models import AbstractBaseUser, AnonymousUser

from accounts.models import Tenant


def tenants_of(user: AbstractBaseUser | AnonymousUser) -> list[Tenant]:
    return list(Tenant.objects.filter(memberships__user=user, is_active=True).order_by("name"))


def chosen_tenant(tenants: list[Tenant], wanted: str | None) -> Tenant | None:
    """The tenant asked for if the person belongs to it, else their first; never another's."""
    for tenant in tenants:
        if str(tenant.pk) == wanted:
            return tenant
    return tenants[0] if tenants else None
