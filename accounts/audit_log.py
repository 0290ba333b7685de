"""Recording who changed what: every key, limit, membership and admin-token change.

Entries are built from an allow-list of fields per kind of object, so a secret or a secret hash
can never end up in the log; values are stored as JSON (dates as ISO 8601, users as names).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import datetime
from typing import Any, Final

from django.contrib.auth.models import AbstractBaseUser, AnonymousUser, User
from django.db import models

from accounts.models import AuditLogEntry, Tenant

LIMIT_FIELDS: Final = ("rpm", "tpm", "max_concurrent", "token_budget", "budget_period", "allowed_models")
API_KEY_FIELDS: Final = (
    "name",
    "prefix",
    "owner",
    "notes",
    "expires_at",
    "revoked_at",
    "previous_secret_expires_at",
    *LIMIT_FIELDS,
)
TENANT_FIELDS: Final = ("name", "is_active", *LIMIT_FIELDS)
MEMBERSHIP_FIELDS: Final = ("user", "role")
ADMIN_TOKEN_FIELDS: Final = ("user", "name", "prefix", "scope", "expires_at", "revoked_at")

# Who made a change: the signed-in person (``request.user``), or None for the system.
Actor = User | AnonymousUser | None
Snapshot = dict[str, Any]


def snapshot(instance: models.Model, fields: Iterable[str]) -> Snapshot:
    """The audited fields of ``instance`` as JSON values."""
    return {name: _json_value(getattr(instance, name)) for name in fields}


def record_change(
    *,
    actor: Actor,
    action: str,
    target: models.Model,
    tenant: Tenant | None,
    before: Mapping[str, Any] | None = None,
    after: Mapping[str, Any] | None = None,
) -> AuditLogEntry:
    before, after = before or {}, after or {}
    changes = {
        name: {"before": before.get(name), "after": after.get(name)}
        for name in dict.fromkeys([*before, *after])
        if before.get(name) != after.get(name)
    }
    # Only a signed-in person is stored; the anonymous user and the system read as "system".
    person = actor if isinstance(actor, User) and actor.is_authenticated else None
    return AuditLogEntry.objects.create(
        actor=person,
        actor_label=person.get_username() if person is not None else "system",
        action=action,
        tenant=tenant,
        target_type=target._meta.model_name or "",
        target_id=str(target.pk),
        target_label=str(target)[:200],
        changes=changes,
    )


def _json_value(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, AbstractBaseUser):
        return value.get_username()
    if isinstance(value, models.Model):
        return str(value)
    if isinstance(value, (list, tuple)):
        return list(value)
    return value
