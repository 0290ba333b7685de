"""The cost of metrics, measured in simultaneous pairs (issue 17: at most 3 % of CPU per request).

Two servers of one deployment run side by side, one with metrics and one without
(``daphne-no-metrics``). Each round loads every scenario on both at the same time (c=10 each,
``interleaved_pairs.simultaneous``), and the cost of a scenario is the median over the rounds
of ``with ÷ without − 1`` of server CPU per request. Measured as separate setups minutes apart,
or even back to back, the machine's drift on this shared VM (single pairs of the same code
differed by up to 22 %) was larger than the few microseconds the metrics hooks cost per request.

Both servers are started afresh for every round, in alternating order (the server started first
was always the one with metrics before): whatever favours one of two equal processes — which
started first, which core each landed on — favours each side in half the rounds. The same
rounds on two identical servers (an A/A control) say how large a difference this machine makes
between equal code: a cost within it is not resolved by this run.
"""

from __future__ import annotations

import contextlib
from collections.abc import Mapping
from functools import partial
from pathlib import Path
from typing import Any, Final

from bench.bench_profile import BenchProfile
from bench.deployment import Deployment, ServerKind
from bench.interleaved_pairs import CONCURRENCY, Pair, cpu_per_request, median_ratio, simultaneous
from bench.scenarios import PROFILED_SCENARIOS, ProfiledScenario, Target

SERVER_KINDS: Final[Mapping[str, ServerKind]] = {"with": "daphne", "without": "daphne-no-metrics"}
# The A/A control: two identical servers with metrics, measured exactly as the pairs above.
CONTROL_KINDS: Final[Mapping[str, ServerKind]] = {"a": "daphne", "b": "daphne"}


def metrics_ab(
    deployment: Deployment, *, profile: BenchProfile, wrk: str | None, mock_pid: int, log_dir: Path
) -> dict[str, Any]:
    """Per scenario: the pairs of CPU ms per request and the median cost, and the same for an
    A/A control of two identical servers: how far apart this machine puts equal code."""
    measure = partial(_pairs, deployment, profile=profile, wrk=wrk, mock_pid=mock_pid, log_dir=log_dir)
    pairs = measure(SERVER_KINDS)
    control = measure(CONTROL_KINDS)
    return {
        "concurrency": CONCURRENCY,
        "seconds_per_measurement": profile.duration / 2,
        "simultaneous": True,
        "pairs": pairs,
        "cost": {scenario: _median_difference(found, "with", "without") for scenario, found in pairs.items()},
        "control": {
            "pairs": control,
            "difference": {scenario: _median_difference(found, "a", "b") for scenario, found in control.items()},
        },
    }


def _pairs(
    deployment: Deployment,
    kinds: Mapping[str, ServerKind],
    *,
    profile: BenchProfile,
    wrk: str | None,
    mock_pid: int,
    log_dir: Path,
) -> dict[str, list[Pair]]:
    """``profile.paired_rounds`` rounds of simultaneous pairs of the two servers ``kinds`` names."""
    sides = tuple(kinds)
    pairs: dict[str, list[Pair]] = {scenario: [] for scenario in PROFILED_SCENARIOS}
    for round_index in range(profile.paired_rounds):
        order = sides if round_index % 2 == 0 else sides[::-1]
        with contextlib.ExitStack() as running:
            targets: dict[str, Target] = {}
            for side in order:
                server = running.enter_context(deployment.server(kinds[side], log_dir=log_dir))
                watched = {"server": server.pid, "mock": mock_pid}
                targets[side] = Target(f"metrics-{side}", server.url, deployment.api_key, watched=watched)
            for warmed in PROFILED_SCENARIOS:  # warm both: first-request set-up is not in any pair
                _pair(warmed, targets, wrk, profile.warmup)
            for scenario in PROFILED_SCENARIOS:
                pairs[scenario].append(_pair(scenario, targets, wrk, profile.duration / 2))
    return pairs


def _pair(scenario: ProfiledScenario, targets: dict[str, Target], wrk: str | None, seconds: float) -> Pair:
    return simultaneous(
        {side: partial(cpu_per_request, scenario, target, wrk, seconds) for side, target in targets.items()}
    )


def _median_difference(pairs: list[Pair], numerator: str, denominator: str) -> float | None:
    ratio = median_ratio(pairs, numerator, denominator)
    return ratio - 1 if ratio is not None else None
