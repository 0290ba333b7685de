"""How one Daphne worker's event loop spends a request: iterations, callbacks, waits.

    python -m bench.loop_iterations --scenario non_streaming --concurrency 1 10

For each concurrency, per request: the loop's iterations, the callbacks they ran, how many
iterations waited on the selector (nothing was ready) and how long, and the time the
iterations took besides waiting (``bench/loop_counting_asgi.py`` counts them inside the
worker). At c=1 a request's callbacks run one or two per iteration, between the arrivals of
its I/O; at c=10 many requests share an iteration. Comparing the two says how much of c=1's
latency is the same work run in small pieces, which no reordering of waits removes.
"""

from __future__ import annotations

import argparse
import tempfile
from pathlib import Path

import httpx

from bench.deployment import Deployment
from bench.loop_counting_asgi import PROBE_PATH
from bench.run import mock_process
from bench.scenarios import PROFILED_SCENARIOS, Target, check_target, scenario_load
from bench.toolchain import ensure_wrk


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scenario", choices=PROFILED_SCENARIOS, default="non_streaming")
    parser.add_argument("--seconds", type=float, default=5.0)
    parser.add_argument("--concurrency", type=int, nargs="+", default=[1, 10])
    args = parser.parse_args()
    log_dir = Path(tempfile.mkdtemp(prefix="oarlock-bench-loop-"))
    wrk = ensure_wrk()
    with mock_process(log_dir) as mock:
        deployment = Deployment.prepare("postgres", upstream_url=mock.url)
        with deployment.server("daphne", log_dir=log_dir, app="bench.loop_counting_asgi:application") as server:
            target = Target("oarlock", server.url, deployment.api_key, watched={"server": server.pid})
            check_target(target)
            for concurrency in args.concurrency:
                scenario_load(args.scenario, target, wrk=wrk, concurrency=concurrency, duration=2, watched={})
                httpx.get(server.url + PROBE_PATH)  # the warm-up's counts are not reported
                result = scenario_load(
                    args.scenario,
                    target,
                    wrk=wrk,
                    concurrency=concurrency,
                    duration=args.seconds,
                    watched=target.watched,
                )
                counts = httpx.get(server.url + PROBE_PATH).json()
                print(summary(args.scenario, concurrency, counts, result["server_cpu_ms_per_request"]), flush=True)


def summary(scenario: str, concurrency: int, counts: dict[str, float], cpu_ms: float | None) -> str:
    requests = counts.get("requests") or 1
    iteration_us = counts.get("iteration_us", 0.0) - counts.get("wait_us", 0.0)
    return (
        f"{scenario} c={concurrency}: per request {counts.get('iterations', 0) / requests:.1f} iterations, "
        f"{counts.get('callbacks', 0) / requests:.1f} callbacks, {counts.get('waits', 0) / requests:.1f} waits "
        f"({counts.get('wait_us', 0.0) / requests:.0f} µs), {iteration_us / requests:.0f} µs running; "
        f"server CPU {cpu_ms or 0:.3f} ms"
    )


if __name__ == "__main__":
    main()
