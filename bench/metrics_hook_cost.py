"""CPU the metrics hooks add to one request, measured in-process (robust on a busy machine).

    PROMETHEUS_MULTIPROC_DIR=$(mktemp -d) .venv/bin/python -m bench.metrics_hook_cost

Runs ``request_started`` + ``observe_request`` (what the usage meter calls per request) in a
loop with metrics on, in multiprocess mode when ``PROMETHEUS_MULTIPROC_DIR`` is set (as under
the worker pool), and prints µs of CPU per request.
"""

from __future__ import annotations

import os
import time

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "oarlock.settings")
os.environ["OARLOCK_METRICS_TOKEN"] = "bench"

import django

django.setup()

from tests.usage.usage_drafts import make_draft  # noqa: E402
from usage import request_metrics as metrics  # noqa: E402


def main(requests: int = 20_000) -> None:
    draft = make_draft(upstream="bench")
    for _ in range(1_000):
        metrics.request_started("chat.completions")
        metrics.observe_request(draft, None)
    started = time.process_time()
    for _ in range(requests):
        metrics.request_started("chat.completions")
        metrics.observe_request(draft, None)
    mode = "multiprocess" if os.environ.get("PROMETHEUS_MULTIPROC_DIR") else "single process"
    print(f"{mode}: {(time.process_time() - started) / requests * 1e6:.1f} µs of CPU per request")


if __name__ == "__main__":
    main()
