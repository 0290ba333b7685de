"""Service: make a person's memberships in SSO-managed tenants match their groups.

Run at every single sign-on. Additions, role changes and removals all go through the
membership services, so each one is in the audit log; a removal also stops the person's keys
in that tenant (a key works only while its owner belongs to its tenant: see api_key_cache).
"""

from __future__ import annotations

import logging
from collections.abc import Iterable

from django.contrib.auth.models import AbstractBaseUser
from django.db import transaction

from accounts.models import Tenant, TenantMembership
from accounts.tenant_membership import add_member, change_member_role, remove_member
from portal.oidc_group_map import GroupMap

logger = logging.getLogger(__name__)


def sync_sso_memberships(*, user: AbstractBaseUser, groups: Iterable[str], group_map: GroupMap) -> None:
    wanted = group_map.roles_for(groups)
    tenants = {tenant.name: tenant for tenant in Tenant.objects.filter(name__in=group_map.managed_tenants)}
    for name in sorted(set(wanted) - set(tenants)):
        logger.warning("OARLOCK_OIDC_GROUP_MAP names tenant %r, which does not exist", name)
    current = {
        membership.tenant.name: membership
        for membership in TenantMembership.objects.select_related("tenant", "user").filter(
            user=user, tenant__name__in=group_map.managed_tenants
        )
    }
    with transaction.atomic():
        for name, membership in current.items():
            if name not in wanted:
                remove_member(membership=membership)
            elif membership.role != wanted[name]:
                change_member_role(membership=membership, role=wanted[name])
        for name, role in wanted.items():
            if name in tenants and name not in current:
                add_member(tenant=tenants[name], user=user, role=role)
