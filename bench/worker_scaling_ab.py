"""Two workers against one, measured in interleaved pairs (issue 17: at least 1.7× the
non-streaming requests per second of one worker, at c=10 and at c=100).

A one-worker server and a two-worker pool (``oarlock.worker_pool``) of one deployment run side
by side; each round loads both, back to back and in alternating order, at each concurrency,
and the scaling is the median over the rounds of ``two ÷ one``. Measured as separate setups
minutes apart, this row read 1.44× in one full run and 1.98× in the next for the same code:
the single worker it divides by had drifted by 40 %. The side not being measured is idle.

Each pair also carries this machine's **ceiling** for it: while one worker is measured, the
whole machine (the worker, the mock, the load generator, PostgreSQL, Redis, anything else) keeps
``machine_cores`` of its cores busy. Two workers serve at most ``cores ÷ machine CPU per
request``, so unless a request gets cheaper under more load, two ÷ one ≤ ``cores ÷
machine_cores``: a goal above that is out of reach for this setup on this machine.
"""

from __future__ import annotations

import os
from functools import partial
from pathlib import Path
from typing import Any, Final

from bench.bench_profile import BenchProfile
from bench.deployment import Deployment
from bench.interleaved_pairs import Pair, clean_run, median_ratio, paired
from bench.scenarios import Target

CONCURRENCIES: Final = (10, 100)
SIDES: Final = ("one", "two")


def worker_scaling_ab(
    deployment: Deployment, *, profile: BenchProfile, wrk: str | None, mock_pid: int, log_dir: Path
) -> dict[str, Any]:
    """Per concurrency: the pairs of requests per second and the median scaling."""
    pairs: dict[str, list[Pair]] = {str(concurrency): [] for concurrency in CONCURRENCIES}
    with (
        deployment.server("daphne", log_dir=log_dir) as one,
        deployment.server("daphne-2-workers", log_dir=log_dir) as two,
    ):
        targets = {
            side: Target(
                f"workers-{side}", server.url, deployment.api_key, watched={"server": server.pid, "mock": mock_pid}
            )
            for side, server in (("one", one), ("two", two))
        }
        for side in SIDES:  # warm both (and every worker of the pool): set-up is not in any pair
            for concurrency in CONCURRENCIES:
                _requests_per_second(targets, wrk, concurrency, profile.warmup, {}, side)
        for round_index in range(profile.paired_rounds):
            for concurrency in CONCURRENCIES:
                machine_cores: dict[str, float] = {}
                measure = partial(_requests_per_second, targets, wrk, concurrency, profile.duration / 2, machine_cores)
                pair = paired(SIDES, round_index, measure)
                pair["ceiling"] = (os.cpu_count() or 1) / machine_cores["one"]
                pairs[str(concurrency)].append(pair)
    return {
        "seconds_per_measurement": profile.duration / 2,
        "pairs": pairs,
        "scaling": {concurrency: median_ratio(values, "two", "one") for concurrency, values in pairs.items()},
    }


def _requests_per_second(
    targets: dict[str, Target],
    wrk: str | None,
    concurrency: int,
    seconds: float,
    machine_cores: dict[str, float],
    side: str,
) -> float:
    """The side's requests per second; the machine's busy cores meanwhile go in ``machine_cores``."""
    result = clean_run("non_streaming", targets[side], wrk=wrk, concurrency=concurrency, seconds=seconds)
    machine_cores[side] = result["cpu"]["machine_cores"]
    return float(result["requests_per_second"])
