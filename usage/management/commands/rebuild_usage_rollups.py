"""``python manage.py rebuild_usage_rollups [--since DATE] [--until DATE]``."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from usage.management.day_argument import parse_day
from usage.usage_rollup import rebuild_usage_rollups


class Command(BaseCommand):
    help = (
        "Recompute daily usage rollups from the raw records, only for days that still have records "
        "(older days were pruned and their rollups are all that is left)."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--since", type=parse_day, default=None, help="First day (YYYY-MM-DD).")
        parser.add_argument("--until", type=parse_day, default=None, help="Last day (YYYY-MM-DD).")

    def handle(self, *args: Any, **options: Any) -> None:
        since, until = options["since"], options["until"]
        if since is not None and until is not None and since > until:
            raise CommandError("--since must not be after --until")
        cells = rebuild_usage_rollups(since=since, until=until)
        self.stdout.write(f"Rebuilt {cells} usage rollup cells.")
