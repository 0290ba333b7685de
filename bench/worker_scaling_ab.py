"""Two workers against one, measured in interleaved pairs (issue 17: at least 1.7× the
non-streaming requests per second of one worker, at c=10 and at c=100).

A one-worker server and a two-worker pool (``oarlock.worker_pool``) of one deployment run side
by side; each round loads both, back to back and in alternating order, at each concurrency,
and the scaling is the median over the rounds of ``two ÷ one``. Measured as separate setups
minutes apart, this row read 1.44× in one full run and 1.98× in the next for the same code:
the single worker it divides by had drifted by 40 %. The side not being measured is idle.
"""

from __future__ import annotations

from functools import partial
from pathlib import Path
from typing import Any, Final

from bench.bench_profile import BenchProfile
from bench.deployment import Deployment
from bench.interleaved_pairs import Pair, measured, median_ratio, paired
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
                _requests_per_second(targets, wrk, concurrency, profile.warmup, side)
        for round_index in range(profile.paired_rounds):
            for concurrency in CONCURRENCIES:
                measure = partial(_requests_per_second, targets, wrk, concurrency, profile.duration / 2)
                pairs[str(concurrency)].append(paired(SIDES, round_index, measure))
    return {
        "seconds_per_measurement": profile.duration / 2,
        "pairs": pairs,
        "scaling": {concurrency: median_ratio(values, "two", "one") for concurrency, values in pairs.items()},
    }


def _requests_per_second(
    targets: dict[str, Target], wrk: str | None, concurrency: int, seconds: float, side: str
) -> float:
    return measured(
        "non_streaming", targets[side], wrk=wrk, concurrency=concurrency, seconds=seconds, value="requests_per_second"
    )
