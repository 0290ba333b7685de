"""What the keys page lists (selectors): the person's keys and, for tenant admins, the tenant's.

Each key carries this month's tokens (from the usage rollups, one grouped query per list) and
its state; keys expiring within ``REMINDER_WINDOW`` are the reminders shown in the portal.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, Final

from django.db.models import F
from django.utils import timezone

from accounts.models import ApiKey, Tenant
from accounts.tenant_access import administered_tenants
from portal.person_access import own_keys
from usage.usage_queries import UsageFilter, usage_rows

REMINDER_WINDOW: Final = timedelta(days=7)


@dataclass(frozen=True, slots=True)
class KeyLine:
    key: ApiKey
    tokens_this_month: int
    state: str  # active, expiring, expired, revoked
    can_manage: bool = True

    @property
    def is_live(self) -> bool:
        return self.state in ("active", "expiring")


@dataclass(frozen=True, slots=True)
class TenantKeys:
    tenant: Tenant
    lines: list[KeyLine]


@dataclass(frozen=True, slots=True)
class KeyListing:
    mine: list[KeyLine]
    reminders: list[KeyLine]
    tenants: list[TenantKeys] = field(default_factory=list)


def key_listing(user: Any, *, now: datetime | None = None) -> KeyListing:
    now = now or timezone.now()
    month_start = timezone.localdate(now).replace(day=1)
    mine = _lines(own_keys(user), UsageFilter(since=month_start, owner_id=user.pk), now)
    tenants = [
        TenantKeys(
            tenant,
            _lines(
                ApiKey.objects.select_related("tenant", "owner").filter(tenant=tenant).exclude(owner=user),
                UsageFilter(since=month_start, tenant_id=tenant.pk),
                now,
            ),
        )
        for tenant in administered_tenants(user).order_by("name")
    ]
    reminders = [line for line in mine if line.state == "expiring"]
    return KeyListing(mine=mine, reminders=reminders, tenants=tenants)


def key_state(key: ApiKey, now: datetime) -> str:
    if key.revoked_at is not None and key.revoked_at <= now:
        return "revoked"
    if key.expires_at is not None and key.expires_at <= now:
        return "expired"
    if key.expires_at is not None and key.expires_at - now <= REMINDER_WINDOW:
        return "expiring"
    return "active"


def _lines(keys: Any, usage_filter: UsageFilter, now: datetime) -> list[KeyLine]:
    keys = list(keys.order_by(F("revoked_at").asc(nulls_first=True), "-created_at")[:500])
    tokens = {row.api_key_id: row.totals.total_tokens for row in usage_rows(usage_filter, "key")}
    return [KeyLine(key, tokens.get(key.pk, 0), key_state(key, now)) for key in keys]
