"""The cost of metrics, measured in interleaved pairs (issue 17: at most 3 % of CPU per request).

Two servers of one deployment run side by side, one with metrics and one without
(``daphne-no-metrics``). Each round loads every scenario on both, back to back and in
alternating order, and the cost of a scenario is the median over the rounds of
``with ÷ without − 1`` of server CPU per request. Measured as the other setups are, one after
the other minutes apart, the machine's drift on this shared VM (±15–30 % between short runs of
the same code) was larger than the few microseconds the metrics hooks cost per request.
"""

from __future__ import annotations

import statistics
from pathlib import Path
from typing import Any, Final

from bench.bench_profile import BenchProfile
from bench.deployment import Deployment
from bench.scenarios import PROFILED_SCENARIOS, ProfiledScenario, Target, scenario_load

CONCURRENCY: Final = 10
SIDES: Final = ("with", "without")


def metrics_ab(
    deployment: Deployment, *, profile: BenchProfile, wrk: str | None, mock_pid: int, log_dir: Path
) -> dict[str, Any]:
    """Per scenario: the pairs of CPU ms per request and the median cost."""
    pairs: dict[str, list[dict[str, float]]] = {scenario: [] for scenario in PROFILED_SCENARIOS}
    with (
        deployment.server("daphne", log_dir=log_dir) as with_metrics,
        deployment.server("daphne-no-metrics", log_dir=log_dir) as without_metrics,
    ):
        servers = {"with": with_metrics, "without": without_metrics}
        targets = {
            side: Target(
                f"metrics-{side}", server.url, deployment.api_key, watched={"server": server.pid, "mock": mock_pid}
            )
            for side, server in servers.items()
        }
        for side in SIDES:  # warm both: first-request set-up is not part of any pair
            for scenario in PROFILED_SCENARIOS:
                _cpu(scenario, targets[side], wrk, profile.warmup)
        for round_index in range(profile.metrics_pairs):
            order = SIDES if round_index % 2 == 0 else SIDES[::-1]
            for scenario in PROFILED_SCENARIOS:
                pairs[scenario].append(
                    {side: _cpu(scenario, targets[side], wrk, profile.duration / 2) for side in order}
                )
    return {
        "concurrency": CONCURRENCY,
        "seconds_per_measurement": profile.duration / 2,
        "pairs": pairs,
        "cost": {scenario: _median_cost(scenario_pairs) for scenario, scenario_pairs in pairs.items()},
    }


def _cpu(scenario: ProfiledScenario, target: Target, wrk: str | None, seconds: float) -> float:
    result = scenario_load(scenario, target, wrk=wrk, concurrency=CONCURRENCY, duration=seconds, watched=target.watched)
    cpu = result.get("server_cpu_ms_per_request")
    if not cpu or result.get("errors"):
        raise RuntimeError(f"{target.name} {scenario}: no clean measurement ({result.get('error_kinds')})")
    return float(cpu)


def _median_cost(pairs: list[dict[str, float]]) -> float | None:
    ratios = [pair["with"] / pair["without"] - 1 for pair in pairs if pair.get("without")]
    return statistics.median(ratios) if ratios else None
