"""Services that create and change API keys. A secret is returned once and never stored.

Every change is written to the audit log (never with a secret), and drops the key from the
lookup caches once the transaction commits: together with the one-second process-local layer
of ``api_key_cache`` that makes a revocation effective on every worker within a second (with a
shared cache, i.e. Redis; see docs/limits.md).

Rotation gives the key a new secret and keeps the old one valid for a grace period, so clients
can switch without downtime. Rotating again during a grace period ends the older grace at once
(only the latest previous secret is kept).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Final

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone

from accounts.api_key_cache import forget_on_commit
from accounts.api_key_secret import display_prefix, generate_secret, hash_api_key
from accounts.audit_log import (
    API_KEY_FIELDS,
    LIMIT_FIELDS,
    Actor,
    record_change,
    snapshot,
)
from accounts.field_edits import apply_edits
from accounts.limit_rules import check_key_limits
from accounts.models import ApiKey, Tenant

DEFAULT_ROTATION_GRACE: Final = timedelta(hours=24)
MAX_ROTATION_GRACE: Final = timedelta(days=30)
EDITABLE_FIELDS: Final = ("name", "owner", "notes", "expires_at", *LIMIT_FIELDS)


@dataclass(frozen=True)
class CreatedApiKey:
    api_key: ApiKey
    secret: str


def create_api_key(
    *,
    tenant: Tenant,
    name: str,
    expires_at: datetime | None = None,
    actor: Actor = None,
    **fields: Any,
) -> CreatedApiKey:
    """Create a key; ``fields`` are owner, notes and the limit fields (rpm, tpm, ...)."""
    check_key_limits(tenant, fields)
    for _ in range(5):
        secret = generate_secret()
        api_key = ApiKey(
            tenant=tenant,
            name=name,
            prefix=display_prefix(secret),
            secret_hash=hash_api_key(secret),
            expires_at=expires_at,
            **fields,
        )
        api_key.full_clean()
        try:
            with transaction.atomic():
                api_key.save()
                record_change(
                    actor=actor,
                    action="api_key.created",
                    target=api_key,
                    tenant=tenant,
                    after=snapshot(api_key, API_KEY_FIELDS),
                )
        except IntegrityError:
            continue  # a display-prefix collision: astronomically rare, try another secret
        return CreatedApiKey(api_key=api_key, secret=secret)
    raise RuntimeError("could not generate a unique API key")


def update_api_key(*, api_key: ApiKey, changes: Mapping[str, Any], actor: Actor = None) -> ApiKey:
    """Change the name, owner, notes, expiry or limits of a key (limits up to the tenant's)."""
    before = apply_edits(api_key, changes, editable=EDITABLE_FIELDS, audited=API_KEY_FIELDS)
    check_key_limits(api_key.tenant, {name: getattr(api_key, name) for name in LIMIT_FIELDS})
    with transaction.atomic():
        api_key.save()
        record_change(
            actor=actor,
            action="api_key.updated",
            target=api_key,
            tenant=api_key.tenant,
            before=before,
            after=snapshot(api_key, API_KEY_FIELDS),
        )
        forget_on_commit([api_key.secret_hash, api_key.previous_secret_hash])
    return api_key


def rotate_api_key(
    *,
    api_key: ApiKey,
    grace: timedelta = DEFAULT_ROTATION_GRACE,
    actor: Actor = None,
    now: datetime | None = None,
) -> CreatedApiKey:
    """A new secret for the key, returned once; the old one works until ``now + grace``."""
    if api_key.revoked_at is not None:
        raise ValidationError("A revoked key cannot be rotated.")
    if not timedelta(0) <= grace <= MAX_ROTATION_GRACE:
        raise ValidationError(f"The grace period must be between 0 and {MAX_ROTATION_GRACE.days} days.")
    now = now or timezone.now()
    before = snapshot(api_key, API_KEY_FIELDS)
    old_hash, dropped_hash = api_key.secret_hash, api_key.previous_secret_hash
    for _ in range(5):
        secret = generate_secret()
        api_key.secret_hash = hash_api_key(secret)
        api_key.prefix = display_prefix(secret)
        api_key.previous_secret_hash = old_hash if grace else None
        api_key.previous_secret_expires_at = now + grace if grace else None
        try:
            with transaction.atomic():
                api_key.save(
                    update_fields=[
                        "secret_hash",
                        "prefix",
                        "previous_secret_hash",
                        "previous_secret_expires_at",
                    ]
                )
                record_change(
                    actor=actor,
                    action="api_key.rotated",
                    target=api_key,
                    tenant=api_key.tenant,
                    before=before,
                    after=snapshot(api_key, API_KEY_FIELDS),
                )
                forget_on_commit([old_hash, dropped_hash])
        except IntegrityError:
            continue
        return CreatedApiKey(api_key=api_key, secret=secret)
    raise RuntimeError("could not generate a unique API key")


def revoke_api_key(*, api_key: ApiKey, at: datetime | None = None, actor: Actor = None) -> ApiKey:
    """Stop the key (and a rotated key's previous secret). Revoking twice changes nothing."""
    if api_key.revoked_at is not None:
        return api_key
    before = snapshot(api_key, API_KEY_FIELDS)
    api_key.revoked_at = at or timezone.now()
    with transaction.atomic():
        api_key.save(update_fields=["revoked_at"])
        record_change(
            actor=actor,
            action="api_key.revoked",
            target=api_key,
            tenant=api_key.tenant,
            before=before,
            after=snapshot(api_key, API_KEY_FIELDS),
        )
        forget_on_commit([api_key.secret_hash, api_key.previous_secret_hash])
    return api_key
