"""Services for people in tenants: add, change the role of, and remove members. Audited."""

from __future__ import annotations

from django.contrib.auth.models import User
from django.db import transaction

from accounts.audit_log import MEMBERSHIP_FIELDS, Actor, record_change, snapshot
from accounts.models import Tenant, TenantMembership, TenantRole


def add_member(*, tenant: Tenant, user: User, role: str = TenantRole.MEMBER, actor: Actor = None) -> TenantMembership:
    with transaction.atomic():
        membership = TenantMembership.objects.create(tenant=tenant, user=user, role=role)
        record_change(
            actor=actor,
            action="member.added",
            target=membership,
            tenant=tenant,
            after=snapshot(membership, MEMBERSHIP_FIELDS),
        )
    return membership


def change_member_role(*, membership: TenantMembership, role: str, actor: Actor = None) -> TenantMembership:
    before = snapshot(membership, MEMBERSHIP_FIELDS)
    membership.role = role
    membership.full_clean()
    with transaction.atomic():
        membership.save(update_fields=["role"])
        record_change(
            actor=actor,
            action="member.role_changed",
            target=membership,
            tenant=membership.tenant,
            before=before,
            after=snapshot(membership, MEMBERSHIP_FIELDS),
        )
    return membership


def remove_member(*, membership: TenantMembership, actor: Actor = None) -> None:
    before = snapshot(membership, MEMBERSHIP_FIELDS)
    with transaction.atomic():
        record_change(actor=actor, action="member.removed", target=membership, tenant=membership.tenant, before=before)
        membership.delete()
