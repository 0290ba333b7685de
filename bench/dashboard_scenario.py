"""Scenario 5: the usage dashboard over 10 million seeded usage records.

The usage app owns the seeding (``manage.py seed_usage``) and the page benchmark
(``bench/usage_dashboard_bench.py``); this runs that benchmark on its own PostgreSQL database
(the seed is topped up, not redone, on later runs) and keeps its JSON.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any, Final

from bench.deployment import PROJECT_DIR, ensure_postgres_database

DASHBOARD_BENCH: Final = PROJECT_DIR / "bench" / "usage_dashboard_bench.py"
DASHBOARD_DATABASE: Final = "oarlock_bench"


def dashboard(log_dir: Path, *, records: int = 10_000_000) -> dict[str, Any]:
    if not DASHBOARD_BENCH.exists():
        return {"skipped": "bench/usage_dashboard_bench.py (the usage app's page benchmark) does not exist yet"}
    ensure_postgres_database(DASHBOARD_DATABASE)
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith(("OARLOCK_", "DATABASE_URL", "REDIS_URL"))},
        "DJANGO_SETTINGS_MODULE": "oarlock.settings",
        "DATABASE_URL": f"postgres://postgres@127.0.0.1:5432/{DASHBOARD_DATABASE}",
        "OARLOCK_VAR_DIR": str(log_dir / "dashboard-var"),
        "OARLOCK_DEBUG": "0",
    }
    log = log_dir / "usage-dashboard.log"
    with log.open("w") as stderr:
        completed = subprocess.run(
            [sys.executable, "-m", "bench.usage_dashboard_bench", "--records", str(records), "--json"],
            cwd=PROJECT_DIR,
            env=env,
            stdout=subprocess.PIPE,
            stderr=stderr,
            text=True,
            check=False,
            timeout=3600,
        )
    if completed.returncode != 0:
        return {"skipped": f"bench.usage_dashboard_bench failed ({completed.returncode}); see {log}"}
    return dict(json.loads(completed.stdout.strip().splitlines()[-1]))
