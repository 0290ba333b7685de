"""``python manage.py reconcile_usage``: land what dead workers left in the usage journals.

Every server start does this too; the command is for when no server will start soon (after a
crash, before a migration). It replays finished records, writes ``interrupted`` records for the
requests still open when their worker died, settles their admissions, and waits until all of it
is committed. Journals of live workers are left alone (they hold their lock).
"""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from usage.models import UsageRecord
from usage.usage_writer import UsageWriter


class Command(BaseCommand):
    help = "Write the usage records that dead workers left in the usage journals (exactly once)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--timeout", type=float, default=60.0, help="Seconds to wait for the database.")

    def handle(self, *args: Any, **options: Any) -> None:
        before = UsageRecord.objects.count()
        writer = UsageWriter()
        writer.start()
        committed = writer.flush(timeout=options["timeout"])
        writer.stop()
        if not committed:
            raise CommandError("The database did not take every record in time; they stay in the journal.")
        interrupted = UsageRecord.objects.filter(outcome="interrupted").count()
        self.stdout.write(
            f"Reconciled: {UsageRecord.objects.count() - before} usage records written "
            f"({interrupted} interrupted records in total)."
        )
