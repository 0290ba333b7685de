"""Retention: raw records older than N days go; the rollups keep their totals.

Rollups are written with the records (same transaction), so deleting records never touches a
total. Deletion runs in chunks of primary keys, each its own short transaction, so pruning
millions of rows neither holds one huge lock nor blocks the usage writer for long.
"""

from __future__ import annotations

from datetime import date, timedelta

from django.db import transaction
from django.utils import timezone

from usage.models import UsageRecord

DELETE_CHUNK = 5000


def retention_cutoff(*, older_than_days: int, today: date | None = None) -> date:
    """The first day kept: records of earlier (local) days are pruned."""
    if older_than_days < 0:
        raise ValueError("older_than_days must be 0 or more")
    return (today or timezone.localdate()) - timedelta(days=older_than_days)


def prune_usage_records(*, older_than_days: int, today: date | None = None) -> int:
    """Delete records whose day is before the cutoff; returns how many were deleted."""
    cutoff = retention_cutoff(older_than_days=older_than_days, today=today)
    deleted = 0
    while True:
        with transaction.atomic():
            chunk = list(
                UsageRecord.objects.filter(day__lt=cutoff).order_by().values_list("pk", flat=True)[:DELETE_CHUNK]
            )
            if not chunk:
                return deleted
            deleted += UsageRecord.objects.filter(pk__in=chunk).delete()[0]
