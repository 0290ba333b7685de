"""Personal admin tokens for the management API: made, hashed, checked and revoked here.

A token is ``oat_`` + 43 URL-safe characters and belongs to one person; it acts with that
person's rights (staff, tenant admin). Only an HMAC of it is stored, keyed separately from API
key hashes, so an inference key can never pass as an admin token or the other way round.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
from dataclasses import dataclass
from datetime import datetime
from typing import Final

from django.conf import settings
from django.contrib.auth.models import AbstractBaseUser
from django.db import transaction
from django.utils import timezone

from accounts.audit_log import ADMIN_TOKEN_FIELDS, Actor, record_change, snapshot
from accounts.models import AdminToken

TOKEN_PREFIX: Final = "oat_"
DISPLAY_PREFIX_LENGTH: Final = 8
TOKEN_PATTERN: Final = re.compile(r"oat_[A-Za-z0-9_-]{43}")


@dataclass(frozen=True)
class CreatedAdminToken:
    token: AdminToken
    secret: str


def hash_admin_token(secret: str) -> str:
    key = hashlib.sha256(b"oarlock-admin-token-hash:" + settings.SECRET_KEY.encode()).digest()
    return hmac.new(key, secret.encode(), hashlib.sha256).hexdigest()


def create_admin_token(
    *, user: AbstractBaseUser, name: str, expires_at: datetime | None = None, actor: Actor = None
) -> CreatedAdminToken:
    secret = TOKEN_PREFIX + secrets.token_urlsafe(32)
    token = AdminToken(
        user=user, name=name, prefix=secret[: len(TOKEN_PREFIX) + DISPLAY_PREFIX_LENGTH],
        token_hash=hash_admin_token(secret), expires_at=expires_at,
    )
    token.full_clean()
    with transaction.atomic():
        token.save()
        record_change(
            actor=actor or user, action="admin_token.created", target=token, tenant=None,
            after=snapshot(token, ADMIN_TOKEN_FIELDS),
        )
    return CreatedAdminToken(token=token, secret=secret)


def revoke_admin_token(*, token: AdminToken, actor: Actor = None) -> AdminToken:
    if token.revoked_at is not None:
        return token
    before = snapshot(token, ADMIN_TOKEN_FIELDS)
    token.revoked_at = timezone.now()
    with transaction.atomic():
        token.save(update_fields=["revoked_at"])
        record_change(
            actor=actor, action="admin_token.revoked", target=token, tenant=None,
            before=before, after=snapshot(token, ADMIN_TOKEN_FIELDS),
        )
    return token


def find_admin_token(secret: str) -> AdminToken | None:
    """The live token behind ``secret`` (not revoked, not expired), with its user."""
    if TOKEN_PATTERN.fullmatch(secret) is None:
        return None  # not shaped like a token: no query
    token = AdminToken.objects.select_related("user").filter(token_hash=hash_admin_token(secret)).first()
    now = timezone.now()
    if token is None or token.revoked_at is not None or (token.expires_at is not None and token.expires_at <= now):
        return None
    if token.last_used_at is None or (now - token.last_used_at).total_seconds() > 60:
        # Written at most once a minute per token: a busy script must not write on every call.
        AdminToken.objects.filter(pk=token.pk).update(last_used_at=now)
    return token
