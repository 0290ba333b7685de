"""Signals only invalidate caches: a changed key or tenant is re-read on its next use."""

from __future__ import annotations

from typing import Any

from django.db.models.signals import post_delete, post_save
from django.dispatch import receiver

from accounts.api_key_cache import forget_secret_hash
from accounts.models import ApiKey, Tenant


def _forget_key(key: ApiKey) -> None:
    forget_secret_hash(key.secret_hash)
    if key.previous_secret_hash:
        forget_secret_hash(key.previous_secret_hash)


@receiver([post_save, post_delete], sender=ApiKey)
def api_key_changed(sender: type[ApiKey], instance: ApiKey, **kwargs: Any) -> None:
    _forget_key(instance)


@receiver([post_save, post_delete], sender=Tenant)
def tenant_changed(sender: type[Tenant], instance: Tenant, **kwargs: Any) -> None:
    for key in ApiKey.objects.filter(tenant_id=instance.pk):
        _forget_key(key)
