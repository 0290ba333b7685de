"""Signals only invalidate caches: a changed key or tenant is re-read on its next use.

The cached entries are dropped when the transaction commits, not when the row is saved (see
``forget_on_commit``): disabling a tenant inside a transaction must not let a request that
reads the old row before the commit cache it again.
"""

from __future__ import annotations

from typing import Any

from django.db.models.signals import post_delete, post_save
from django.dispatch import receiver

from accounts.api_key_cache import forget_on_commit
from accounts.models import ApiKey, Tenant


@receiver([post_save, post_delete], sender=ApiKey)
def api_key_changed(sender: type[ApiKey], instance: ApiKey, **kwargs: Any) -> None:
    forget_on_commit([instance.secret_hash, instance.previous_secret_hash])


@receiver([post_save, post_delete], sender=Tenant)
def tenant_changed(sender: type[Tenant], instance: Tenant, **kwargs: Any) -> None:
    # The hashes are read now: once a tenant's deletion has committed, its keys are gone.
    keys = ApiKey.objects.filter(tenant_id=instance.pk).values_list("secret_hash", "previous_secret_hash")
    forget_on_commit([secret_hash for pair in keys for secret_hash in pair])
