"""Who is watching the monitor and what they may see and stop (selector; roles server-side).

Members see their own requests (made with keys they own), tenant admins their tenants'
requests, staff every request. Staff may cancel any request, everyone else only their own.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.contrib.auth.models import AnonymousUser, User

from accounts.models import TenantMembership, TenantRole
from monitor.monitor_groups import ALL_REQUESTS, CLUSTER, person_group, tenant_group


@dataclass(frozen=True)
class MonitorViewer:
    user_id: int
    username: str
    is_staff: bool
    admin_tenant_ids: frozenset[int]
    member_tenant_ids: frozenset[int]

    @property
    def may_watch(self) -> bool:
        return self.is_staff or bool(self.member_tenant_ids)

    @property
    def role(self) -> str:
        if self.is_staff:
            return "staff"
        return "tenant admin" if self.admin_tenant_ids else "member"

    def groups(self) -> list[str]:
        if self.is_staff:
            return [ALL_REQUESTS, CLUSTER]
        if not self.member_tenant_ids:
            return []
        groups = [tenant_group(tenant_id) for tenant_id in sorted(self.admin_tenant_ids)]
        groups.append(person_group(self.user_id))
        if self.admin_tenant_ids:
            groups.append(CLUSTER)
        return groups

    def may_join(self, group: str) -> bool:
        """Checked again for every group the consumer joins, whatever computed the list."""
        if self.is_staff:
            return True
        if group == person_group(self.user_id):
            return bool(self.member_tenant_ids)
        if group == CLUSTER:
            return bool(self.admin_tenant_ids)
        return any(group == tenant_group(tenant_id) for tenant_id in self.admin_tenant_ids)

    def may_see(self, *, tenant_id: int, owner_id: int | None) -> bool:
        return (
            self.is_staff
            or tenant_id in self.admin_tenant_ids
            or (owner_id == self.user_id and tenant_id in self.member_tenant_ids)
        )

    def may_cancel(self, *, owner_id: int | None) -> bool:
        return self.is_staff or (owner_id is not None and owner_id == self.user_id)


def monitor_viewer(user: User | AnonymousUser) -> MonitorViewer | None:
    """The viewer behind a signed-in, active user; ``None`` for anyone else. Sync (ORM)."""
    if not user.is_authenticated or not user.is_active:
        return None
    memberships = TenantMembership.objects.filter(user=user, tenant__is_active=True).values_list("tenant_id", "role")
    admin, member = set(), set()
    for tenant_id, role in memberships:
        member.add(tenant_id)
        if role == TenantRole.ADMIN:
            admin.add(tenant_id)
    return MonitorViewer(
        user_id=user.pk,
        username=user.get_username(),
        is_staff=user.is_staff,
        admin_tenant_ids=frozenset(admin),
        member_tenant_ids=frozenset(member),
    )
