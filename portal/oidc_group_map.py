"""``OARLOCK_OIDC_GROUP_MAP``: which identity-provider group gives which tenant and role.

Format: ``group=tenant:role`` items separated by commas, role ``member`` or ``admin`` (default
member), e.g. ``eng=engineering:member,eng-leads=engineering:admin``. A person in several
groups of one tenant gets the highest role. Tenants named here are *managed* by SSO: their
memberships follow the groups at every sign-in, removals included; memberships in other
tenants (added by hand) are left alone.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from django.core.exceptions import ImproperlyConfigured

from accounts.models import TenantRole

_RANK = {TenantRole.MEMBER: 1, TenantRole.ADMIN: 2}


@dataclass(frozen=True, slots=True)
class GroupGrant:
    group: str
    tenant: str
    role: str


@dataclass(frozen=True, slots=True)
class GroupMap:
    grants: tuple[GroupGrant, ...]

    @property
    def managed_tenants(self) -> frozenset[str]:
        return frozenset(grant.tenant for grant in self.grants)

    def roles_for(self, groups: Iterable[str]) -> dict[str, str]:
        """Tenant name → the highest role the person's groups give there."""
        held = set(groups)
        roles: dict[str, str] = {}
        for grant in self.grants:
            if grant.group in held and _RANK[grant.role] > _RANK.get(roles.get(grant.tenant, ""), 0):
                roles[grant.tenant] = grant.role
        return roles


def parse_group_map(raw: str) -> GroupMap:
    grants = []
    for item in (part.strip() for part in raw.split(",")):
        if not item:
            continue
        group, equals, target = item.partition("=")
        tenant, _, role = target.partition(":")
        role = role.strip() or TenantRole.MEMBER
        if not equals or not group.strip() or not tenant.strip() or role not in _RANK:
            raise ImproperlyConfigured(
                f"OARLOCK_OIDC_GROUP_MAP item {item!r} is not group=tenant:member|admin"
            )
        grants.append(GroupGrant(group.strip(), tenant.strip(), role))
    return GroupMap(tuple(grants))
