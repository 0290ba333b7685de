"""Services that create and change tenants (name, active flag, limits). Audited.

A tenant's limits cap all its keys at admission; lowering one does not rewrite the keys.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Final

from django.db import transaction

from accounts.audit_log import (
    LIMIT_FIELDS,
    TENANT_FIELDS,
    Actor,
    record_change,
    snapshot,
)
from accounts.field_edits import apply_edits
from accounts.models import Tenant

EDITABLE_FIELDS: Final = ("name", "is_active", *LIMIT_FIELDS)


def create_tenant(*, name: str, actor: Actor = None, **fields: Any) -> Tenant:
    tenant = Tenant(name=name, **fields)
    tenant.full_clean()
    with transaction.atomic():
        tenant.save()
        record_change(
            actor=actor,
            action="tenant.created",
            target=tenant,
            tenant=tenant,
            after=snapshot(tenant, TENANT_FIELDS),
        )
    return tenant


def update_tenant(*, tenant: Tenant, changes: Mapping[str, Any], actor: Actor = None) -> Tenant:
    before = apply_edits(tenant, changes, editable=EDITABLE_FIELDS, audited=TENANT_FIELDS)
    with transaction.atomic():
        tenant.save()
        record_change(
            actor=actor,
            action="tenant.updated",
            target=tenant,
            tenant=tenant,
            before=before,
            after=snapshot(tenant, TENANT_FIELDS),
        )
    return tenant
