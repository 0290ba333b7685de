"""Rotation with a grace period, revocation, limits up to the tenant's, and the audit trail."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
from asgiref.sync import async_to_sync
from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.utils import timezone

from accounts.api_key_authentication import authenticate_secret
from accounts.api_key_lifecycle import (
    create_api_key,
    revoke_api_key,
    rotate_api_key,
    update_api_key,
)
from accounts.api_key_secret import hash_api_key
from accounts.authenticated_key import AuthenticatedKey
from accounts.errors import ExpiredApiKey, InvalidApiKey, RevokedApiKey
from accounts.models import AuditLogEntry
from tests.factories import make_api_key, make_tenant

pytestmark = pytest.mark.django_db(transaction=True)


def authenticate(secret: str) -> AuthenticatedKey:
    return async_to_sync(authenticate_secret)(secret)


def test_a_rotated_key_accepts_both_secrets_during_the_grace_period() -> None:
    api_key, old_secret = make_api_key()
    authenticate(old_secret)  # cached before the rotation
    new_secret = rotate_api_key(api_key=api_key, grace=timedelta(hours=1)).secret
    assert new_secret != old_secret
    assert authenticate(new_secret).key_id == api_key.pk
    assert authenticate(old_secret).key_id == api_key.pk
    api_key.refresh_from_db()
    assert api_key.prefix == new_secret[:12]


def test_the_old_secret_stops_working_when_the_grace_period_ends() -> None:
    api_key, old_secret = make_api_key()
    rotated = rotate_api_key(api_key=api_key, grace=timedelta(hours=1), now=timezone.now() - timedelta(hours=2))
    with pytest.raises(ExpiredApiKey, match="rotated"):
        authenticate(old_secret)
    assert authenticate(rotated.secret).key_id == api_key.pk


def test_rotating_without_grace_stops_the_old_secret_at_once() -> None:
    api_key, old_secret = make_api_key()
    authenticate(old_secret)
    rotate_api_key(api_key=api_key, grace=timedelta(0))
    with pytest.raises(InvalidApiKey):
        authenticate(old_secret)


def test_rotating_again_ends_the_earlier_grace_period() -> None:
    api_key, first = make_api_key()
    second = rotate_api_key(api_key=api_key, grace=timedelta(hours=1)).secret
    authenticate(first)
    rotate_api_key(api_key=api_key, grace=timedelta(hours=1))
    with pytest.raises(InvalidApiKey):
        authenticate(first)
    assert authenticate(second).key_id == api_key.pk


def test_revoking_a_rotated_key_stops_its_previous_secret_too() -> None:
    api_key, old_secret = make_api_key()
    new_secret = rotate_api_key(api_key=api_key, grace=timedelta(hours=1)).secret
    authenticate(old_secret)
    revoke_api_key(api_key=api_key)
    for secret in (old_secret, new_secret):
        with pytest.raises(RevokedApiKey):
            authenticate(secret)


def test_a_revoked_key_cannot_be_rotated() -> None:
    api_key, _ = make_api_key()
    revoke_api_key(api_key=api_key)
    with pytest.raises(ValidationError):
        rotate_api_key(api_key=api_key)


def test_a_key_limit_above_the_tenant_limit_is_refused() -> None:
    tenant = make_tenant(rpm=10, tpm=1000, allowed_models=["small"])
    with pytest.raises(ValidationError) as refused:
        create_api_key(tenant=tenant, name="k", rpm=11, tpm=1000, allowed_models=["big"])
    assert set(refused.value.message_dict) == {"rpm", "allowed_models"}
    api_key = create_api_key(tenant=tenant, name="k", rpm=10).api_key
    with pytest.raises(ValidationError):
        update_api_key(api_key=api_key, changes={"tpm": 2000})


def test_every_key_change_is_audited_with_who_and_before_and_after() -> None:
    person = get_user_model().objects.create_user("ada")
    tenant = make_tenant()
    created = create_api_key(tenant=tenant, name="ci", actor=person, rpm=5)
    update_api_key(api_key=created.api_key, changes={"rpm": 7, "notes": "nightly"}, actor=person)
    rotate_api_key(api_key=created.api_key, actor=person)
    revoke_api_key(api_key=created.api_key, actor=person)
    entries = list(AuditLogEntry.objects.order_by("id"))
    assert [entry.action for entry in entries] == [
        "api_key.created",
        "api_key.updated",
        "api_key.rotated",
        "api_key.revoked",
    ]
    assert {entry.actor_label for entry in entries} == {"ada"}
    assert all(entry.tenant_id == tenant.pk for entry in entries)
    assert entries[1].changes == {"rpm": {"before": 5, "after": 7}, "notes": {"before": "", "after": "nightly"}}
    assert set(entries[2].changes) == {"prefix", "previous_secret_expires_at"}
    assert entries[3].changes["revoked_at"]["before"] is None


def test_the_audit_log_never_holds_a_secret_or_a_hash() -> None:
    created = create_api_key(tenant=make_tenant(), name="ci")
    rotated = rotate_api_key(api_key=created.api_key)
    logged = json.dumps([entry.changes for entry in AuditLogEntry.objects.all()])
    for secret in (created.secret, rotated.secret):
        assert secret not in logged
        assert hash_api_key(secret) not in logged
