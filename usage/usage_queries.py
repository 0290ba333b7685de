"""Usage selectors: reports read the daily rollups; only a key's request list reads records.

A rollup cell is one (day, tenant, key, model), so a dashboard over millions of records sums
a few thousand rows. Group names are the current ones where the tenant or key still exists,
else the names stored with the usage (deleted keys keep their history).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date
from typing import Any, Literal

from django.db.models import F, Max, Q, QuerySet, Sum

from accounts.models import ApiKey, Tenant
from usage.models import ROLLUP_COUNTERS, UsageRecord, UsageRollup

GroupBy = Literal["tenant", "key", "model", "day"]
GROUP_BY_CHOICES: tuple[GroupBy, ...] = ("tenant", "key", "model", "day")
_GROUP_FIELDS: dict[GroupBy, tuple[str, ...]] = {
    "tenant": ("tenant_id",),
    "key": ("api_key_id",),
    "model": ("model",),
    "day": ("day",),
}


@dataclass(frozen=True, slots=True)
class UsageFilter:
    """Inclusive local-date range and optional tenant, key and model."""

    since: date | None = None
    until: date | None = None
    tenant_id: int | None = None
    api_key_id: int | None = None
    model: str | None = None
    # The keys of one person (the portal's "my usage"); keys deleted since are not theirs.
    owner_id: int | None = None


@dataclass(frozen=True, slots=True)
class UsageTotals:
    requests: int = 0
    error_requests: int = 0
    prompt_unknown_requests: int = 0
    prompt_tokens: int = 0
    cached_prompt_tokens: int = 0
    input_image_tokens: int = 0
    content_tokens: int = 0
    reasoning_tokens: int = 0
    tool_call_tokens: int = 0
    undeterminable_tokens: int = 0
    completion_tokens: int = 0

    @property
    def total_tokens(self) -> int:
        return self.prompt_tokens + self.completion_tokens

    @classmethod
    def from_sums(cls, sums: Mapping[str, Any]) -> UsageTotals:
        return cls(**{name: int(sums.get(name) or 0) for name in ROLLUP_COUNTERS})


@dataclass(frozen=True, slots=True)
class UsageRow:
    """One group of a report; the fields its grouping does not use stay empty."""

    totals: UsageTotals
    tenant_id: int | None = None
    tenant: str = ""
    api_key_id: int | None = None
    key: str = ""
    key_prefix: str = ""
    model: str = ""
    day: date | None = None


def filtered_rollups(usage_filter: UsageFilter) -> QuerySet[UsageRollup]:
    rollups = UsageRollup.objects.all()
    if usage_filter.since is not None:
        rollups = rollups.filter(day__gte=usage_filter.since)
    if usage_filter.until is not None:
        rollups = rollups.filter(day__lte=usage_filter.until)
    if usage_filter.tenant_id is not None:
        rollups = rollups.filter(tenant_id=usage_filter.tenant_id)
    if usage_filter.api_key_id is not None:
        rollups = rollups.filter(api_key_id=usage_filter.api_key_id)
    if usage_filter.model:
        rollups = rollups.filter(model=usage_filter.model)
    if usage_filter.owner_id is not None:
        rollups = rollups.filter(api_key_id__in=ApiKey.objects.filter(owner_id=usage_filter.owner_id).values("pk"))
    return rollups


def usage_totals(usage_filter: UsageFilter) -> UsageTotals:
    sums = filtered_rollups(usage_filter).aggregate(**_sums())
    return UsageTotals.from_sums(sums)


def usage_rows(usage_filter: UsageFilter, group_by: GroupBy, *, top: int | None = None) -> list[UsageRow]:
    """One row per group: in natural order (name, day), or the ``top`` groups by total tokens."""
    groups = (
        filtered_rollups(usage_filter).values(*_GROUP_FIELDS[group_by]).annotate(**_sums(), **_group_names(group_by))
    )
    if top is not None:
        # F() here names the sums annotated above, not the columns.
        groups = groups.annotate(total_tokens=F("prompt_tokens") + F("completion_tokens")).order_by(
            "-total_tokens", *_GROUP_FIELDS[group_by]
        )[:top]
    rows = _with_current_names([_row(group_by, values) for values in groups])
    if top is None:
        rows.sort(key=_natural_order(group_by))
    return rows


def usage_models(usage_filter: UsageFilter) -> list[str]:
    """The models used in the filter's date range (the model filter's choices)."""
    in_range = filtered_rollups(UsageFilter(since=usage_filter.since, until=usage_filter.until))
    return list(in_range.values_list("model", flat=True).distinct().order_by("model"))


def key_requests(
    usage_filter: UsageFilter, *, api_key_id: int, before_id: int | None = None, limit: int = 50
) -> list[UsageRecord]:
    """A key's raw records, newest first, ``limit`` at most, older than record ``before_id``."""
    records = UsageRecord.objects.filter(api_key_id=api_key_id)
    if usage_filter.since is not None:
        records = records.filter(day__gte=usage_filter.since)
    if usage_filter.until is not None:
        records = records.filter(day__lte=usage_filter.until)
    if usage_filter.model:
        records = records.filter(model=usage_filter.model)
    if before_id is not None:
        anchor = UsageRecord.objects.filter(pk=before_id).values_list("started_at", flat=True).first()
        if anchor is not None:
            records = records.filter(Q(started_at__lt=anchor) | Q(started_at=anchor, pk__lt=before_id))
    return list(records.order_by("-started_at", "-pk")[:limit])


def _sums() -> dict[str, Any]:
    return {name: Sum(name) for name in ROLLUP_COUNTERS}


def _group_names(group_by: GroupBy) -> dict[str, Any]:
    if group_by == "tenant":
        return {"tenant": Max("tenant_name")}
    if group_by == "key":
        return {
            "key": Max("key_name"),
            "key_prefix_name": Max("key_prefix"),
            "key_tenant_id": Max("tenant_id"),
            "tenant": Max("tenant_name"),
        }
    return {}


def _row(group_by: GroupBy, values: Mapping[str, Any]) -> UsageRow:
    totals = UsageTotals.from_sums(values)
    match group_by:
        case "tenant":
            return UsageRow(totals, tenant_id=values["tenant_id"], tenant=values["tenant"] or "")
        case "key":
            return UsageRow(
                totals,
                tenant_id=values["key_tenant_id"],
                tenant=values["tenant"] or "",
                api_key_id=values["api_key_id"],
                key=values["key"] or "",
                key_prefix=values["key_prefix_name"] or "",
            )
        case "model":
            return UsageRow(totals, model=values["model"])
        case "day":
            return UsageRow(totals, day=values["day"])


def _with_current_names(rows: list[UsageRow]) -> list[UsageRow]:
    tenant_ids = {row.tenant_id for row in rows if row.tenant_id is not None}
    key_ids = {row.api_key_id for row in rows if row.api_key_id is not None}
    tenants = dict(Tenant.objects.filter(pk__in=tenant_ids).values_list("pk", "name")) if tenant_ids else {}
    keys = dict(ApiKey.objects.filter(pk__in=key_ids).values_list("pk", "name")) if key_ids else {}
    return [_renamed(row, tenants.get(row.tenant_id or 0), keys.get(row.api_key_id or 0)) for row in rows]


def _renamed(row: UsageRow, tenant: str | None, key: str | None) -> UsageRow:
    if tenant is None and key is None:
        return row
    return UsageRow(
        row.totals,
        tenant_id=row.tenant_id,
        tenant=tenant if tenant is not None else row.tenant,
        api_key_id=row.api_key_id,
        key=key if key is not None else row.key,
        key_prefix=row.key_prefix,
        model=row.model,
        day=row.day,
    )


def _natural_order(group_by: GroupBy) -> Any:
    match group_by:
        case "tenant":
            return lambda row: (row.tenant.lower(), row.tenant_id or 0)
        case "key":
            return lambda row: (row.key.lower(), row.key_prefix, row.api_key_id or 0)
        case "model":
            return lambda row: row.model
        case "day":
            return lambda row: row.day or date.min


def report_totals(rows: Iterable[UsageRow]) -> UsageTotals:
    """The sum of report rows (a table's footer)."""
    sums = {name: 0 for name in ROLLUP_COUNTERS}
    for row in rows:
        for name in ROLLUP_COUNTERS:
            sums[name] += getattr(row.totals, name)
    return UsageTotals.from_sums(sums)
