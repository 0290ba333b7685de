"""Two sides measured back to back, in alternating order, round after round.

On this shared VM the same code measured minutes apart drifts by ±15–30 %: more than the
margins of issue 17's ratio targets. A ratio taken within one pair sees the same machine on
both sides, and its median over the rounds is the verdict (``metrics_ab.py``,
``worker_scaling_ab.py``).
"""

from __future__ import annotations

import statistics
from collections.abc import Callable, Mapping, Sequence

from bench.scenarios import ProfiledScenario, Target, scenario_load

Pair = dict[str, float]


def paired(sides: tuple[str, str], round_index: int, measure: Callable[[str], float]) -> Pair:
    """``measure(side)`` of both sides, back to back; which goes first alternates per round."""
    order = sides if round_index % 2 == 0 else sides[::-1]
    return {side: measure(side) for side in order}


def measured(
    scenario: ProfiledScenario, target: Target, *, wrk: str | None, concurrency: int, seconds: float, value: str
) -> float:
    """One load run's ``value`` (``server_cpu_ms_per_request``, ``requests_per_second``); a run
    with errors measures nothing, so it stops the benchmark instead of entering a pair."""
    result = scenario_load(scenario, target, wrk=wrk, concurrency=concurrency, duration=seconds, watched=target.watched)
    number = result.get(value)
    if not number or result.get("errors"):
        raise RuntimeError(f"{target.name} {scenario}: no clean measurement ({result.get('error_kinds')})")
    return float(number)


def ratios(pairs: Sequence[Mapping[str, float]], numerator: str, denominator: str) -> list[float]:
    return [pair[numerator] / pair[denominator] for pair in pairs if pair.get(denominator)]


def median_ratio(pairs: Sequence[Mapping[str, float]], numerator: str, denominator: str) -> float | None:
    values = ratios(pairs, numerator, denominator)
    return statistics.median(values) if values else None
