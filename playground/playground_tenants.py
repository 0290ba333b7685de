"""The tenants a person may use the playground in (selector)."""

from __future__ import annotations

from typing import Any

from accounts.models import Tenant
from portal.person_access import member_tenants


def tenants_of(user: Any) -> list[Tenant]:
    return list(member_tenants(user).order_by("name"))


def chosen_tenant(tenants: list[Tenant], wanted: str | None) -> Tenant | None:
    """The tenant asked for if the person belongs to it, else their first; never another's."""
    for tenant in tenants:
        if str(tenant.pk) == wanted:
            return tenant
    return tenants[0] if tenants else None
