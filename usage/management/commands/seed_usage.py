"""``python manage.py seed_usage --records N``: synthetic usage for benchmarks and demos."""

from __future__ import annotations

import time
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from usage.usage_seed import DEFAULT_MODELS, SeedPlan, holds_real_usage, seed_usage


class Command(BaseCommand):
    help = (
        "Insert N synthetic usage records (seed-tenant-*/seed-key-*, spread over the last --days "
        "days) with their rollups, in one transaction. Generated inside the database: millions "
        "take minutes."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--records", type=int, required=True)
        parser.add_argument("--days", type=int, default=90)
        parser.add_argument("--tenants", type=int, default=20)
        parser.add_argument("--keys-per-tenant", type=int, default=5)
        parser.add_argument("--models", default=",".join(DEFAULT_MODELS), help="Comma-separated model names.")
        parser.add_argument("--chunk", type=int, default=250_000, help="Records per INSERT statement.")
        parser.add_argument(
            "--force",
            action="store_true",
            help="Seed even though the database holds real usage records (fake billing rows among them).",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        models = tuple(name.strip() for name in options["models"].split(",") if name.strip())
        numbers = (
            options["records"],
            options["days"],
            options["tenants"],
            options["keys_per_tenant"],
            options["chunk"],
        )
        if min(numbers) < 1 or not models:
            raise CommandError(
                "--records, --days, --tenants, --keys-per-tenant and --chunk must be ≥ 1; --models non-empty"
            )
        if not options["force"] and holds_real_usage():
            # Seeded rows are indistinguishable from billing data in every report.
            raise CommandError(
                "This database holds real usage records: seeding would mix fake billing rows into "
                "them. Use a database of its own for benchmarks and demos, or pass --force."
            )
        plan = SeedPlan(
            records=options["records"],
            days=options["days"],
            tenants=options["tenants"],
            keys_per_tenant=options["keys_per_tenant"],
            models=models,
            chunk=options["chunk"],
        )
        started = time.monotonic()

        def progress(done: int) -> None:
            self.stdout.write(f"  {done} / {plan.records} records ({time.monotonic() - started:.1f}s)")

        seeded = seed_usage(plan, progress=progress if options["verbosity"] > 1 else None)
        self.stdout.write(f"Seeded {seeded} usage records in {time.monotonic() - started:.1f}s.")
