"""Services that create and change API keys. The secret is returned once and never stored."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.db import IntegrityError, transaction
from django.utils import timezone

from accounts.api_key_secret import display_prefix, generate_secret, hash_api_key
from accounts.models import ApiKey, Tenant


@dataclass(frozen=True)
class CreatedApiKey:
    api_key: ApiKey
    secret: str


def create_api_key(
    *,
    tenant: Tenant,
    name: str,
    expires_at: datetime | None = None,
    **limits: Any,
) -> CreatedApiKey:
    """Create a key; ``limits`` are ApiKey limit fields (rpm, tpm, max_concurrent, ...)."""
    for _ in range(5):
        secret = generate_secret()
        api_key = ApiKey(
            tenant=tenant,
            name=name,
            prefix=display_prefix(secret),
            secret_hash=hash_api_key(secret),
            expires_at=expires_at,
            **limits,
        )
        api_key.full_clean()
        try:
            with transaction.atomic():
                api_key.save()
        except IntegrityError:
            continue  # a display-prefix collision: astronomically rare, try another secret
        return CreatedApiKey(api_key=api_key, secret=secret)
    raise RuntimeError("could not generate a unique API key")


def revoke_api_key(*, api_key: ApiKey, at: datetime | None = None) -> ApiKey:
    api_key.revoked_at = at or timezone.now()
    api_key.save(update_fields=["revoked_at"])
    return api_key
