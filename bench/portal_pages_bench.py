"""How fast are the portal's pages over millions of usage records?

Uses the database ``bench/usage_dashboard_bench.py`` seeds (``manage.py seed_usage``: records
and rollups generated inside the database). One person owns the keys of the busiest seeded
tenant and administers it; each portal page is timed with Django's test client in-process
(no HTTP server), and so is the admin dashboard's default page in the same run, as the
baseline each page is compared with (the machine is noisy; a ratio travels better):

    createdb -h 127.0.0.1 -U postgres oarlock_bench
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/oarlock_bench \\
        .venv/bin/python -m bench.portal_pages_bench --records 10000000
"""

from __future__ import annotations

import argparse
import json
import statistics
import time
from typing import Any

from bench.usage_dashboard_bench import _database_facts, _seed_up_to, _setup_django


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--records", type=int, default=10_000_000)
    parser.add_argument("--runs", type=int, default=10, help="Timed requests per page (after one warm-up).")
    parser.add_argument("--chunk", type=int, default=500_000, help="Seed records per INSERT statement.")
    parser.add_argument("--json", action="store_true", help="Print one JSON object instead of a table.")
    options = parser.parse_args(argv)
    _setup_django()
    seeding = _seed_up_to(options.records, options.chunk, quiet=options.json)
    result = {**_database_facts(), "seeding": seeding, "pages": _time_pages(options.runs)}
    if options.json:
        print(json.dumps(result))
    else:
        _print_table(result)
    return 0


def _time_pages(runs: int) -> list[dict[str, Any]]:
    from django.db import connection  # noqa: PLC0415  (after django.setup())
    from django.test import Client  # noqa: PLC0415
    from django.test.utils import CaptureQueriesContext  # noqa: PLC0415

    person, staff, tenant_id = _people()
    pages = [
        ("admin dashboard, 30 days (baseline)", staff, "/admin/usage/usagerollup/"),
        ("portal home", person, "/"),
        ("keys", person, "/keys/"),
        ("your usage, 30 days", person, "/usage/"),
        ("your usage, 90 days", person, "/usage/?days=90"),
        ("tenant usage, 30 days", person, f"/usage/tenants/{tenant_id}/"),
        ("tenant usage, 90 days", person, f"/usage/tenants/{tenant_id}/?days=90"),
        ("your CSV by day, 90 days", person, "/usage/export.csv?days=90&group_by=day"),
        ("tenant CSV by key, 90 days", person, f"/usage/tenants/{tenant_id}/export.csv?days=90&group_by=key"),
        ("members", person, f"/tenants/{tenant_id}/members/"),
    ]
    results = []
    for name, user, url in pages:
        client = Client()
        client.force_login(user)
        response = client.get(url)  # warm-up: templates, connection, caches
        assert response.status_code == 200, (name, response.status_code)
        timings = []
        for _ in range(runs):
            with CaptureQueriesContext(connection) as queries:
                started = time.perf_counter()
                client.get(url)
                timings.append((time.perf_counter() - started) * 1000)
        results.append({"page": name, "url": url, "queries": len(queries),
                        "median_ms": round(statistics.median(timings), 1), "max_ms": round(max(timings), 1)})
    baseline = results[0]["median_ms"] or 1
    for row in results:
        row["vs_baseline"] = round(row["median_ms"] / baseline, 2)
    return results


def _people() -> tuple[Any, Any, int]:
    """A person who owns every key of the busiest seeded tenant and administers it; a staff user."""
    from django.contrib.auth.models import User  # noqa: PLC0415
    from django.db.models import Sum  # noqa: PLC0415

    from accounts.models import ApiKey, TenantMembership  # noqa: PLC0415
    from usage.models import UsageRollup  # noqa: PLC0415

    busiest = (UsageRollup.objects.values("tenant_id").annotate(n=Sum("requests")).order_by("-n").first())
    assert busiest, "no usage seeded"
    tenant_id = busiest["tenant_id"]
    person, _ = User.objects.get_or_create(username="portal-bench")
    TenantMembership.objects.get_or_create(user=person, tenant_id=tenant_id, defaults={"role": "admin"})
    ApiKey.objects.filter(tenant_id=tenant_id).update(owner=person)
    staff, _ = User.objects.get_or_create(username="usage-bench", defaults={"is_staff": True, "is_superuser": True})
    return person, staff, tenant_id


def _print_table(result: dict[str, Any]) -> None:
    seeding = result["seeding"]
    print(f"database: {result['database']} {result['database_version']}")
    print(f"records: {seeding['records']:,}  rollup cells: {seeding['rollup_cells']:,}")
    print(f"{'page':<38} {'queries':>7} {'median ms':>10} {'max ms':>8} {'× baseline':>10}")
    for page in result["pages"]:
        print(f"{page['page']:<38} {page['queries']:>7} {page['median_ms']:>10} {page['max_ms']:>8} "
              f"{page['vs_baseline']:>10}")


if __name__ == "__main__":
    raise SystemExit(main())
