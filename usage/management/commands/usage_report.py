"""``python manage.py usage_report [--group-by tenant|key|model|day] [--since DATE]
[--until DATE] [--format csv|json]``: one row per group, columns as design.md specifies."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from usage.management.day_argument import parse_day
from usage.report_export import render_report
from usage.usage_queries import GROUP_BY_CHOICES, UsageFilter, usage_rows


class Command(BaseCommand):
    help = "Usage per tenant, key, model or day, as CSV (with a header) or a JSON array."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--group-by", choices=GROUP_BY_CHOICES, default="tenant")
        parser.add_argument("--since", type=parse_day, default=None, help="First day, inclusive (YYYY-MM-DD).")
        parser.add_argument("--until", type=parse_day, default=None, help="Last day, inclusive (YYYY-MM-DD).")
        parser.add_argument("--format", choices=("csv", "json"), default="csv")

    def handle(self, *args: Any, **options: Any) -> None:
        since, until = options["since"], options["until"]
        if since is not None and until is not None and since > until:
            raise CommandError("--since must not be after --until")
        group_by = options["group_by"]
        rows = usage_rows(UsageFilter(since=since, until=until), group_by)
        self.stdout.write(render_report(rows, group_by, options["format"]), ending="")
