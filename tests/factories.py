"""Plain factory functions for test data."""

from __future__ import annotations

import itertools
from typing import Any

from accounts.api_key_lifecycle import create_api_key
from accounts.models import ApiKey, Tenant

_sequence = itertools.count(1)


def make_tenant(name: str | None = None, **fields: Any) -> Tenant:
    return Tenant.objects.create(name=name or f"tenant-{next(_sequence)}", **fields)


def make_api_key(tenant: Tenant | None = None, *, name: str = "test key", **fields: Any) -> tuple[ApiKey, str]:
    created = create_api_key(tenant=tenant or make_tenant(), name=name, **fields)
    return created.api_key, created.secret
