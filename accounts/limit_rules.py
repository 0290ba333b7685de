"""A key's limits never exceed its tenant's.

Checked when a key is created or changed (admin, management API, command). Admission checks the
key's and the tenant's counters anyway, so a tenant limit lowered later still caps every key.
A key limit left empty means "the tenant's limit applies".
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from django.core.exceptions import ValidationError

from accounts.models import Tenant

_NUMERIC_LIMITS = {"rpm": "requests per minute", "tpm": "tokens per minute", "max_concurrent": "requests in flight"}


def key_limit_errors(tenant: Tenant, values: Mapping[str, Any]) -> dict[str, str]:
    """Field → message for every limit in ``values`` above the tenant's own."""
    errors: dict[str, str] = {}
    for name, label in _NUMERIC_LIMITS.items():
        mine, theirs = values.get(name), getattr(tenant, name)
        if mine is not None and theirs is not None and mine > theirs:
            errors[name] = f"The {label} of a key cannot exceed its tenant's ({theirs})."
    budget, period = values.get("token_budget"), values.get("budget_period") or "month"
    if (
        budget is not None
        and tenant.token_budget is not None
        and period == tenant.budget_period
        and budget > tenant.token_budget
    ):
        errors["token_budget"] = (
            f"The token budget of a key cannot exceed its tenant's ({tenant.token_budget} per {period})."
        )
    models, allowed = values.get("allowed_models") or [], tenant.allowed_models or []
    outside = [model for model in models if allowed and model not in allowed]
    if outside:
        errors["allowed_models"] = (
            f"Not allowed for the tenant: {', '.join(outside)} (the tenant allows {', '.join(allowed)})."
        )
    return errors


def check_key_limits(tenant: Tenant, values: Mapping[str, Any]) -> None:
    errors = key_limit_errors(tenant, values)
    if errors:
        raise ValidationError(errors)
