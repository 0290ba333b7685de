"""Personal admin tokens for the management API: made, hashed, checked and revoked here.

A token is ``oat_`` + 43 URL-safe characters and belongs to one person; it acts with that
person's rights (staff, tenant admin), all of them (``write``) or only reading (``read``). Only
an HMAC of it is stored, keyed separately from API key hashes, so an inference key can never
pass as an admin token or the other way round.

No token lives longer than ``OARLOCK_ADMIN_TOKEN_MAX_DAYS``. A token made with another token
cannot outlive it or have a wider scope, and is revoked with it: a short-lived or read-only
token leaked to a script cannot be turned into a lasting, writing one.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Final

from django.conf import settings
from django.contrib.auth.models import User
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from accounts.audit_log import ADMIN_TOKEN_FIELDS, Actor, record_change, snapshot
from accounts.models import AdminToken, AdminTokenScope

TOKEN_PREFIX: Final = "oat_"
DISPLAY_PREFIX_LENGTH: Final = 8
TOKEN_PATTERN: Final = re.compile(r"oat_[A-Za-z0-9_-]{43}")
# Scopes from narrowest to widest: a token may only make tokens up to its own.
SCOPE_ORDER: Final = (AdminTokenScope.READ, AdminTokenScope.WRITE)


@dataclass(frozen=True)
class CreatedAdminToken:
    token: AdminToken
    secret: str


def hash_admin_token(secret: str) -> str:
    key = hashlib.sha256(b"oarlock-admin-token-hash:" + settings.SECRET_KEY.encode()).digest()
    return hmac.new(key, secret.encode(), hashlib.sha256).hexdigest()


def latest_expiry(*, made_with: AdminToken | None, now: datetime) -> datetime:
    """The latest a new token may expire: the lifetime cap, and never after the token making it."""
    latest = now + timedelta(days=settings.OARLOCK_ADMIN_TOKEN_MAX_DAYS)
    if made_with is not None and made_with.expires_at is not None:
        latest = min(latest, made_with.expires_at)
    return latest


def _checked_expiry(expires_at: datetime | None, *, made_with: AdminToken | None, now: datetime) -> datetime:
    latest = latest_expiry(made_with=made_with, now=now)
    if expires_at is None:
        return latest
    if expires_at <= now:
        raise ValidationError({"expires_at": "The expiry must be in the future."})
    if expires_at > latest:
        capped_by_parent = made_with is not None and latest == made_with.expires_at
        reason = "the token it is made with" if capped_by_parent else f"{settings.OARLOCK_ADMIN_TOKEN_MAX_DAYS} days"
        message = f"A new token cannot outlive {reason}: {latest.isoformat()} at the latest."
        raise ValidationError({"expires_at": message})
    return expires_at


def _checked_scope(scope: str, *, made_with: AdminToken | None) -> str:
    if made_with is not None and SCOPE_ORDER.index(AdminTokenScope(scope)) > SCOPE_ORDER.index(made_with.scope):
        raise ValidationError({"scope": f"A {made_with.scope}-only token cannot make a {scope} token."})
    return scope


def create_admin_token(
    *,
    user: User,
    name: str,
    expires_at: datetime | None = None,
    scope: str = AdminTokenScope.WRITE,
    made_with: AdminToken | None = None,
    actor: Actor = None,
    now: datetime | None = None,
) -> CreatedAdminToken:
    """A new token for ``user``; without ``expires_at`` it lives as long as it may."""
    now = now or timezone.now()
    secret = TOKEN_PREFIX + secrets.token_urlsafe(32)
    token = AdminToken(
        user=user,
        name=name,
        prefix=secret[: len(TOKEN_PREFIX) + DISPLAY_PREFIX_LENGTH],
        token_hash=hash_admin_token(secret),
        made_with=made_with,
        expires_at=_checked_expiry(expires_at, made_with=made_with, now=now),
        scope=_checked_scope(scope, made_with=made_with),
    )
    token.full_clean()
    with transaction.atomic():
        token.save()
        record_change(
            actor=actor or user,
            action="admin_token.created",
            target=token,
            tenant=None,
            after=snapshot(token, ADMIN_TOKEN_FIELDS),
        )
    return CreatedAdminToken(token=token, secret=secret)


def revoke_admin_token(*, token: AdminToken, actor: Actor = None) -> AdminToken:
    """Revoke the token and every live token made with it, down the chain."""
    with transaction.atomic():
        if token.revoked_at is None:
            before = snapshot(token, ADMIN_TOKEN_FIELDS)
            token.revoked_at = timezone.now()
            token.save(update_fields=["revoked_at"])
            record_change(
                actor=actor,
                action="admin_token.revoked",
                target=token,
                tenant=None,
                before=before,
                after=snapshot(token, ADMIN_TOKEN_FIELDS),
            )
        for made in AdminToken.objects.filter(made_with=token, revoked_at__isnull=True):
            revoke_admin_token(token=made, actor=actor)
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
