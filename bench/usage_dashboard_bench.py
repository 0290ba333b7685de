"""How fast is the admin usage dashboard over millions of usage records?

Seeds the database up to ``--records`` usage records (``manage.py seed_usage``: generated inside
the database, with their rollups), then times the dashboard pages with Django's test client as
a staff user, in-process (no HTTP server in the measurement):

    createdb -h 127.0.0.1 -U postgres oarlock_bench
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/oarlock_bench \
        .venv/bin/python -m bench.usage_dashboard_bench --records 10000000

Use a database of its own: the seed adds tenants, keys and records and is not removed (a
re-run only tops the records up to ``--records``). ``--json`` prints the result as one JSON
object (for bench/run.py).
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import time
from datetime import timedelta
from pathlib import Path
from typing import Any

import django
from django.conf import settings
from django.core.management import call_command
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

PROJECT_DIR = Path(__file__).resolve().parent.parent


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--records", type=int, default=10_000_000)
    parser.add_argument("--runs", type=int, default=10, help="Timed requests per page (after one warm-up).")
    parser.add_argument("--chunk", type=int, default=500_000, help="Seed records per INSERT statement.")
    parser.add_argument("--json", action="store_true", help="Print one JSON object instead of a table.")
    options = parser.parse_args(argv)
    _setup_django()
    seeding = _seed_up_to(options.records, options.chunk, quiet=options.json)
    pages = _time_pages(options.runs)
    result = {**_database_facts(), "seeding": seeding, "pages": pages}
    if options.json:
        print(json.dumps(result))
    else:
        _print_table(result)
    return 0


def _setup_django() -> None:
    sys.path.insert(0, str(PROJECT_DIR))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "oarlock.settings")
    django.setup()
    settings.ALLOWED_HOSTS = [*settings.ALLOWED_HOSTS, "testserver"]
    call_command("migrate", verbosity=0)


def _seed_up_to(records: int, chunk: int, *, quiet: bool) -> dict[str, Any]:
    # Models can only be imported once django.setup() has run.
    from usage.models import UsageRecord, UsageRollup  # noqa: PLC0415

    existing = UsageRecord.objects.count()
    missing = max(0, records - existing)
    started = time.monotonic()
    if missing:
        call_command("seed_usage", "--records", str(missing), "--chunk", str(chunk), verbosity=1 if quiet else 2)
        if connection.vendor == "postgresql":
            with connection.cursor() as cursor:
                cursor.execute("VACUUM ANALYZE usage_usagerecord")
                cursor.execute("VACUUM ANALYZE usage_usagerollup")
    return {
        "records": UsageRecord.objects.count(),
        "rollup_cells": UsageRollup.objects.count(),
        "seeded_now": missing,
        "seconds": round(time.monotonic() - started, 1),
    }


def _time_pages(runs: int) -> list[dict[str, Any]]:
    from django.contrib.auth.models import User  # noqa: PLC0415  (after django.setup())

    from usage.models import UsageRollup  # noqa: PLC0415

    user, _ = User.objects.get_or_create(username="usage-bench", defaults={"is_staff": True, "is_superuser": True})
    client = Client()
    client.force_login(user)
    busiest = UsageRollup.objects.order_by("-requests").values("tenant_id", "api_key_id").first() or {}
    dashboard = "/admin/usage/usagerollup/"
    pages: list[tuple[str, str, dict[str, str]]] = [
        ("dashboard, last 30 days", dashboard, {}),
        ("dashboard, 90 days", dashboard, {"since": _days_ago(89)}),
        ("dashboard, 90 days by day", dashboard, {"since": _days_ago(89), "group_by": "day"}),
        (
            "tenant drill-down, 90 days",
            dashboard,
            {"since": _days_ago(89), "tenant": str(busiest.get("tenant_id", ""))},
        ),
        (
            "key drill-down + its requests",
            dashboard,
            {"since": _days_ago(89), "key": str(busiest.get("api_key_id", ""))},
        ),
        ("CSV export by key, 90 days", dashboard + "export.csv", {"since": _days_ago(89), "group_by": "key"}),
        ("JSON API by tenant, all time", "/api/usage/", {"group_by": "tenant"}),
        ("raw records list, newest 50", "/admin/usage/usagerecord/", {}),
        ("raw records list, outcome=failed", "/admin/usage/usagerecord/", {"outcome__exact": "failed"}),
    ]
    results = []
    for name, path, query in pages:
        response = client.get(path, query)  # warm-up: templates, connection, caches
        assert response.status_code == 200, (name, response.status_code)
        timings = []
        for _ in range(runs):
            with CaptureQueriesContext(connection) as queries:
                started = time.perf_counter()
                client.get(path, query)
                timings.append((time.perf_counter() - started) * 1000)
        results.append(
            {
                "page": name,
                "url": f"{path}?{'&'.join(f'{k}={v}' for k, v in query.items())}",
                "queries": len(queries),
                "median_ms": round(statistics.median(timings), 1),
                "max_ms": round(max(timings), 1),
                "min_ms": round(min(timings), 1),
            }
        )
    return results


def _days_ago(days: int) -> str:
    return (timezone.localdate() - timedelta(days=days)).isoformat()


def _database_facts() -> dict[str, Any]:
    with connection.cursor() as cursor:
        cursor.execute("SELECT version()" if connection.vendor == "postgresql" else "SELECT sqlite_version()")
        version = cursor.fetchone()[0]
    return {"database": connection.vendor, "database_version": version.split(" on ")[0]}


def _print_table(result: dict[str, Any]) -> None:
    seeding = result["seeding"]
    print(f"database: {result['database']} {result['database_version']}")
    print(
        f"records: {seeding['records']:,}  rollup cells: {seeding['rollup_cells']:,}  "
        f"(seeded {seeding['seeded_now']:,} now in {seeding['seconds']}s)"
    )
    print(f"{'page':<34} {'queries':>7} {'median ms':>10} {'max ms':>8}")
    for page in result["pages"]:
        print(f"{page['page']:<34} {page['queries']:>7} {page['median_ms']:>10} {page['max_ms']:>8}")


if __name__ == "__main__":
    raise SystemExit(main())
