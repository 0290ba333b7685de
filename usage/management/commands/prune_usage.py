"""``python manage.py prune_usage [--older-than-days N]``: delete old raw usage records."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser

from usage.usage_retention import prune_usage_records, retention_cutoff


class Command(BaseCommand):
    help = (
        "Delete raw usage records older than N days (default OARLOCK_USAGE_RETENTION_DAYS). "
        "Daily rollups keep every total."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--older-than-days",
            type=int,
            default=None,
            help="Keep this many past days of records, plus today (default: the retention setting).",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        days = options["older_than_days"]
        if days is None:
            days = settings.OARLOCK_USAGE_RETENTION_DAYS
            # 0 in the setting means keep forever, as OARLOCK_RESPONSES_RETENTION_DAYS does: a
            # zero left in a config file must never delete billing data (docs/usage.md).
            if days <= 0:
                raise CommandError(
                    "OARLOCK_USAGE_RETENTION_DAYS is 0 (keep forever): nothing to prune. "
                    "Pass --older-than-days to prune anyway."
                )
        if days < 0:
            raise CommandError("--older-than-days must be 0 or more")
        cutoff = retention_cutoff(older_than_days=days)
        deleted = prune_usage_records(older_than_days=days)
        self.stdout.write(f"Deleted {deleted} usage records from before {cutoff.isoformat()}.")
