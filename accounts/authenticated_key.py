"""What the API path knows about the caller: a snapshot of the key and its tenant, cacheable."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime


@dataclass(frozen=True, slots=True)
class Limits:
    rpm: int | None = None
    tpm: int | None = None
    max_concurrent: int | None = None
    token_budget: int | None = None
    budget_period: str = "month"
    allowed_models: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class AuthenticatedKey:
    key_id: int
    key_name: str
    key_prefix: str
    tenant_id: int
    tenant_name: str
    key_limits: Limits
    tenant_limits: Limits
    expires_at: datetime | None = None
    revoked_at: datetime | None = None
    tenant_active: bool = True
    # A person's key works only while they are active and still belong to the key's tenant
    # (an SSO sign-in that removes them from the tenant, or a deactivation, stops it).
    owner_has_access: bool = True
    # During a rotation's grace period the previous secret still authenticates until this time.
    valid_until: datetime | None = None
    # The person the key belongs to (None for service keys), shown by the live monitor.
    owner_id: int | None = None
    owner_name: str = ""

    def allows_model(self, model: str) -> bool:
        for allowed in (self.key_limits.allowed_models, self.tenant_limits.allowed_models):
            if allowed and model not in allowed:
                return False
        return True


class ApiKeyPrincipal:
    """``request.user`` on the API path: DRF wants something with ``is_authenticated``."""

    is_authenticated = True
    is_anonymous = False

    def __init__(self, key: AuthenticatedKey) -> None:
        self.key = key

    def __str__(self) -> str:
        return f"{self.key.tenant_name}/{self.key.key_prefix}"
