"""Which models a person may use: the registered ones their tenants allow (selectors)."""

from __future__ import annotations

from collections.abc import Iterable

from django.conf import settings

from accounts.models import Tenant
from inference.models import Upstream


def registered_models() -> list[str]:
    """Model names served, as ``/v1/models`` lists them (the default upstream first)."""
    names = [settings.OARLOCK_DEFAULT_MODEL] if settings.PADDLER_INFERENCE_URL else []
    names += [name for name in Upstream.objects.filter(is_enabled=True).values_list("model_name", flat=True)]
    return list(dict.fromkeys(names))


def models_for_tenants(tenants: Iterable[Tenant]) -> list[str]:
    """The registered models any of ``tenants`` allows (a tenant that lists none allows all)."""
    registered = registered_models()
    allowed: set[str] = set()
    for tenant in tenants:
        allowed.update(tenant.allowed_models or registered)
    return [name for name in registered if name in allowed]
