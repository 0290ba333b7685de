"""Finding the key behind a presented secret without a database query per request.

Two layers: a process-local dict (at most ``LOCAL_TTL_SECONDS`` old, so a revocation made by
another worker is seen within a second) in front of Django's cache (Redis when configured,
``OARLOCK_API_KEY_CACHE_SECONDS``), in front of the database. Revoking or changing a key drops
its entry from both layers at once (``accounts/signals.py``).
"""

from __future__ import annotations

import functools
import time
from collections.abc import Iterable
from dataclasses import replace
from typing import Final

from channels.db import database_sync_to_async
from django.conf import settings
from django.core.cache import DEFAULT_CACHE_ALIAS, caches
from django.core.cache.backends.base import BaseCache
from django.db import transaction

from accounts.authenticated_key import AuthenticatedKey, Limits
from accounts.models import ApiKey, Tenant, TenantMembership

LOCAL_TTL_SECONDS: Final = 1.0
_MISSING: Final = "missing"

_local: dict[str, tuple[float, AuthenticatedKey | None]] = {}


def _cache_key(secret_hash: str) -> str:
    return f"apikey:{secret_hash}"


@functools.cache
def _shared_cache() -> BaseCache:
    """One cache backend for the whole process.

    Django's ``cache`` proxy keeps one backend per asyncio context, and each request runs in a
    context of its own: every lookup that reached this layer built a new Redis client, pool and
    connection (and left it to the garbage collector). The backend's pool is thread-safe."""
    return caches.create_connection(DEFAULT_CACHE_ALIAS)


async def find_authenticated_key(secret_hash: str) -> AuthenticatedKey | None:
    now = time.monotonic()
    local = _local.get(secret_hash)
    if local is not None and now - local[0] < LOCAL_TTL_SECONDS:
        return local[1]
    cached = await _shared_cache().aget(_cache_key(secret_hash))
    found: AuthenticatedKey | None
    if cached is None:
        found = await _load_from_database(secret_hash)
        await _shared_cache().aset(_cache_key(secret_hash), found or _MISSING, settings.OARLOCK_API_KEY_CACHE_SECONDS)
    else:
        found = None if cached == _MISSING else cached
    if len(_local) > 10_000:
        _local.clear()
    _local[secret_hash] = (now, found)
    return found


def forget_secret_hash(secret_hash: str) -> None:
    """Drop a key from both cache layers (sync: called from signals and services)."""
    _local.pop(secret_hash, None)
    _shared_cache().delete(_cache_key(secret_hash))


def forget_on_commit(secret_hashes: Iterable[str | None]) -> None:
    """Drop these keys' cached lookups once the current transaction commits (at once outside one).

    Not before: a worker that reads the rows before the commit would cache the old state (a
    still-active tenant, a not-yet-revoked key) for another ``OARLOCK_API_KEY_CACHE_SECONDS``."""
    hashes = [secret_hash for secret_hash in secret_hashes if secret_hash]

    def forget() -> None:
        for secret_hash in hashes:
            forget_secret_hash(secret_hash)

    transaction.on_commit(forget)


async def _load_from_database(secret_hash: str) -> AuthenticatedKey | None:
    found: AuthenticatedKey | None = await database_sync_to_async(_find_in_database)(secret_hash)
    return found


def _find_in_database(secret_hash: str) -> AuthenticatedKey | None:
    key = ApiKey.objects.select_related("tenant", "owner").filter(secret_hash=secret_hash).first()
    if key is not None:
        return snapshot_of(key)
    return find_key_by_previous_hash(secret_hash)


def find_key_by_previous_hash(secret_hash: str) -> AuthenticatedKey | None:
    """A rotated key's old secret, valid until its grace period ends (see api_key_lifecycle)."""
    key = ApiKey.objects.select_related("tenant", "owner").filter(previous_secret_hash=secret_hash).first()
    if key is None:
        return None
    return replace(snapshot_of(key), valid_until=key.previous_secret_expires_at)


def snapshot_of(key: ApiKey) -> AuthenticatedKey:
    tenant: Tenant = key.tenant
    owner = key.owner
    owner_has_access = owner is None or (
        owner.is_active and TenantMembership.objects.filter(user_id=owner.pk, tenant=tenant).exists()
    )
    return AuthenticatedKey(
        key_id=key.pk,
        key_name=key.name,
        key_prefix=key.prefix,
        tenant_id=tenant.pk,
        tenant_name=tenant.name,
        key_limits=_limits_of(key),
        tenant_limits=_limits_of(tenant),
        expires_at=key.expires_at,
        revoked_at=key.revoked_at,
        tenant_active=tenant.is_active,
        owner_id=key.owner_id,
        owner_name=key.owner.get_username() if key.owner is not None else "",
        owner_has_access=owner_has_access,
    )


def _limits_of(holder: ApiKey | Tenant) -> Limits:
    return Limits(
        rpm=holder.rpm,
        tpm=holder.tpm,
        max_concurrent=holder.max_concurrent,
        token_budget=holder.token_budget,
        budget_period=holder.budget_period,
        allowed_models=tuple(holder.allowed_models or ()),
    )
