"""The cost of metrics, measured in interleaved pairs (issue 17: at most 3 % of CPU per request).

Two servers of one deployment run side by side, one with metrics and one without
(``daphne-no-metrics``). Each round loads every scenario on both, back to back and in
alternating order, and the cost of a scenario is the median over the rounds of
``with ÷ without − 1`` of server CPU per request. Measured as the other setups are, one after
the other minutes apart, the machine's drift on this shared VM (±15–30 % between short runs of
the same code) was larger than the few microseconds the metrics hooks cost per request.

Each round measures a chat stream and a Responses stream on the same server seconds apart, so
``issue_targets`` also reads the Responses ÷ chat CPU ratio from the "with" side's rounds.
"""

from __future__ import annotations

from functools import partial
from pathlib import Path
from typing import Any, Final

from bench.bench_profile import BenchProfile
from bench.deployment import Deployment
from bench.interleaved_pairs import Pair, measured, median_ratio, paired
from bench.scenarios import PROFILED_SCENARIOS, ProfiledScenario, Target

CONCURRENCY: Final = 10
SIDES: Final = ("with", "without")


def metrics_ab(
    deployment: Deployment, *, profile: BenchProfile, wrk: str | None, mock_pid: int, log_dir: Path
) -> dict[str, Any]:
    """Per scenario: the pairs of CPU ms per request and the median cost."""
    pairs: dict[str, list[Pair]] = {scenario: [] for scenario in PROFILED_SCENARIOS}
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
        for round_index in range(profile.paired_rounds):
            for scenario in PROFILED_SCENARIOS:
                measure = partial(_side_cpu, scenario, targets, wrk, profile.duration / 2)
                pairs[scenario].append(paired(SIDES, round_index, measure))
    return {
        "concurrency": CONCURRENCY,
        "seconds_per_measurement": profile.duration / 2,
        "pairs": pairs,
        "cost": {scenario: _median_cost(scenario_pairs) for scenario, scenario_pairs in pairs.items()},
    }


def _side_cpu(
    scenario: ProfiledScenario, targets: dict[str, Target], wrk: str | None, seconds: float, side: str
) -> float:
    return _cpu(scenario, targets[side], wrk, seconds)


def _cpu(scenario: ProfiledScenario, target: Target, wrk: str | None, seconds: float) -> float:
    return measured(
        scenario, target, wrk=wrk, concurrency=CONCURRENCY, seconds=seconds, value="server_cpu_ms_per_request"
    )


def _median_cost(pairs: list[Pair]) -> float | None:
    ratio = median_ratio(pairs, "with", "without")
    return ratio - 1 if ratio is not None else None
