"""The cost of metrics, measured in simultaneous pairs (issue 17: at most 3 % of CPU per request).

Two servers of one deployment run side by side, one with metrics and one without
(``daphne-no-metrics``). Each round loads every scenario on both at the same time (c=10 each,
``interleaved_pairs.simultaneous``), and the cost of a scenario is the median over the rounds
of ``with ÷ without − 1`` of server CPU per request. Measured as separate setups minutes apart,
or even back to back, the machine's drift on this shared VM (single pairs of the same code
differed by up to 22 %) was larger than the few microseconds the metrics hooks cost per request.

Both servers are started afresh for every round, in alternating order (the server started first
was always the one with metrics before): whatever favours one of two equal processes — which
started first, which core each landed on — favours each side in half the rounds.
"""

from __future__ import annotations

import contextlib
from functools import partial
from pathlib import Path
from typing import Any, Final

from bench.bench_profile import BenchProfile
from bench.deployment import Deployment, ServerKind
from bench.interleaved_pairs import CONCURRENCY, Pair, cpu_per_request, median_ratio, simultaneous
from bench.scenarios import PROFILED_SCENARIOS, ProfiledScenario, Target

SIDES: Final = ("with", "without")
SERVER_KINDS: Final[dict[str, ServerKind]] = {"with": "daphne", "without": "daphne-no-metrics"}


def metrics_ab(
    deployment: Deployment, *, profile: BenchProfile, wrk: str | None, mock_pid: int, log_dir: Path
) -> dict[str, Any]:
    """Per scenario: the pairs of CPU ms per request and the median cost."""
    pairs: dict[str, list[Pair]] = {scenario: [] for scenario in PROFILED_SCENARIOS}
    for round_index in range(profile.paired_rounds):
        order = SIDES if round_index % 2 == 0 else SIDES[::-1]
        with contextlib.ExitStack() as running:
            targets: dict[str, Target] = {}
            for side in order:
                server = running.enter_context(deployment.server(SERVER_KINDS[side], log_dir=log_dir))
                watched = {"server": server.pid, "mock": mock_pid}
                targets[side] = Target(f"metrics-{side}", server.url, deployment.api_key, watched=watched)
            for warmed in PROFILED_SCENARIOS:  # warm both: first-request set-up is not in any pair
                _pair(warmed, targets, wrk, profile.warmup)
            for scenario in PROFILED_SCENARIOS:
                pairs[scenario].append(_pair(scenario, targets, wrk, profile.duration / 2))
    return {
        "concurrency": CONCURRENCY,
        "seconds_per_measurement": profile.duration / 2,
        "simultaneous": True,
        "pairs": pairs,
        "cost": {scenario: _median_cost(scenario_pairs) for scenario, scenario_pairs in pairs.items()},
    }


def _pair(scenario: ProfiledScenario, targets: dict[str, Target], wrk: str | None, seconds: float) -> Pair:
    return simultaneous({side: partial(cpu_per_request, scenario, targets[side], wrk, seconds) for side in SIDES})


def _median_cost(pairs: list[Pair]) -> float | None:
    ratio = median_ratio(pairs, "with", "without")
    return ratio - 1 if ratio is not None else None
