"""``manage.py purge_responses [--older-than-days N]``: delete stored responses past retention."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser

from compat_api.responses.response_store import purge_responses


class Command(BaseCommand):
    help = (
        "Delete stored responses (every tenant's) older than OARLOCK_RESPONSES_RETENTION_DAYS, "
        "or than --older-than-days."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--older-than-days",
            type=int,
            default=None,
            help="Override the retention setting for this run (0 deletes everything).",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        days = options["older_than_days"]
        if days is None:
            days = settings.OARLOCK_RESPONSES_RETENTION_DAYS
            if days <= 0:
                raise CommandError(
                    "OARLOCK_RESPONSES_RETENTION_DAYS is 0 (keep forever): nothing to purge. "
                    "Pass --older-than-days to purge anyway."
                )
        if days < 0:
            raise CommandError("--older-than-days must be 0 or more.")
        deleted = purge_responses(older_than=timedelta(days=days))
        self.stdout.write(f"Deleted {deleted} stored responses older than {days} days.")
