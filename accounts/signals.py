"""Signals invalidate caches: a changed key, tenant, person or membership is re-read on its
next use. One exception writes: a person's deactivation is audited here, because Django's own
user admin (not one of our services) is where people are deactivated.

The cached entries are dropped when the transaction commits, not when the row is saved (see
``forget_on_commit``): disabling a tenant inside a transaction must not let a request that
reads the old row before the commit cache it again.
"""

from __future__ import annotations

from typing import Any

from django.contrib.auth import get_user_model
from django.db.models.signals import post_delete, post_save, pre_save
from django.dispatch import receiver

from accounts.api_key_cache import forget_on_commit
from accounts.audit_log import record_change
from accounts.models import ApiKey, Tenant, TenantMembership


@receiver([post_save, post_delete], sender=ApiKey)
def api_key_changed(sender: type[ApiKey], instance: ApiKey, **kwargs: Any) -> None:
    forget_on_commit([instance.secret_hash, instance.previous_secret_hash])


@receiver([post_save, post_delete], sender=Tenant)
def tenant_changed(sender: type[Tenant], instance: Tenant, **kwargs: Any) -> None:
    # The hashes are read now: once a tenant's deletion has committed, its keys are gone.
    _forget_keys_on_commit(tenant_id=instance.pk)


@receiver(pre_save, sender=get_user_model())
def person_deactivating(sender: type[Any], instance: Any, **kwargs: Any) -> None:
    if instance.pk is None or instance.is_active:
        return
    was_active = sender.objects.filter(pk=instance.pk, is_active=True).exists()
    if was_active:
        record_change(
            actor=None,
            action="user.deactivated",
            target=instance,
            tenant=None,
            before={"is_active": True},
            after={"is_active": False},
        )


@receiver(post_save, sender=get_user_model())
def person_changed(sender: type[Any], instance: Any, update_fields: Any = None, **kwargs: Any) -> None:
    if update_fields is not None and set(update_fields) <= {"last_login"}:
        return  # a sign-in: nothing a key depends on
    _forget_keys_on_commit(owner_id=instance.pk)


@receiver([post_save, post_delete], sender=TenantMembership)
def membership_changed(sender: type[TenantMembership], instance: TenantMembership, **kwargs: Any) -> None:
    _forget_keys_on_commit(owner_id=instance.user_id, tenant_id=instance.tenant_id)


def _forget_keys_on_commit(**owned_by: Any) -> None:
    keys = ApiKey.objects.filter(**owned_by).values_list("secret_hash", "previous_secret_hash")
    forget_on_commit([secret_hash for pair in keys for secret_hash in pair])
