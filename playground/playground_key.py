"""The playground's key for a person in a tenant (service): created on first use, never shown.

Playground requests go through the real /v1 path, so they need a key: an ordinary key owned by
the person, named and noted as the playground's, so its usage appears on their usage page like
any other. Its secret is thrown away at creation: the page authenticates with a short-lived
session-bound token instead (``accounts/session_bound_token.py``). A revoked or expired
playground key is replaced by a new one.
"""

from __future__ import annotations

from typing import Any

from django.db import transaction
from django.utils import timezone

from accounts.api_key_lifecycle import create_api_key
from accounts.models import ApiKey, Tenant
from playground.models import PlaygroundKey

PLAYGROUND_KEY_NAME = "Playground"


def playground_key_for(*, user: Any, tenant: Tenant) -> ApiKey:
    existing = PlaygroundKey.objects.select_related("api_key").filter(user=user, tenant=tenant).first()
    if existing is not None and _usable(existing.api_key):
        return existing.api_key
    with transaction.atomic():
        if existing is not None:
            existing.delete()
        created = create_api_key(
            tenant=tenant,
            name=PLAYGROUND_KEY_NAME,
            owner=user,
            actor=user,
            notes="Used by the portal's playground (browser session tokens only; no secret exists).",
        )
        PlaygroundKey.objects.create(user=user, tenant=tenant, api_key=created.api_key)
    return created.api_key


def _usable(api_key: ApiKey) -> bool:
    now = timezone.now()
    return api_key.revoked_at is None and (api_key.expires_at is None or api_key.expires_at > now)
