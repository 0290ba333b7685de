"""Two sides measured as a pair, round after round: at the same time, or back to back.

On this shared VM the same code measured minutes apart drifts by ±15–30 %: more than the
margins of issue 17's ratio targets. A ratio taken within one pair sees the same machine on
both sides, and its median over the rounds is the verdict.

* ``simultaneous``: both sides under load in the same seconds, each on its own server, for CPU
  per request (``metrics_ab.py``, ``responses_ab.py``). Back to back, 5 s apart, single pairs
  of the same code still differed by up to 22 % in the run of 08:29; loaded together, whatever
  the machine does meanwhile happens to both.
* ``paired``: back to back in alternating order, for a ratio of throughputs, which sharing the
  cores would change (``worker_scaling_ab.py``).
"""

from __future__ import annotations

import statistics
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import Any, Final

from bench.scenarios import ProfiledScenario, Target, scenario_load

Pair = dict[str, float]
# The load of each side of a CPU pair.
CONCURRENCY: Final = 10


def paired(sides: tuple[str, str], round_index: int, measure: Callable[[str], float]) -> Pair:
    """``measure(side)`` of both sides, back to back; which goes first alternates per round."""
    order = sides if round_index % 2 == 0 else sides[::-1]
    return {side: measure(side) for side in order}


def simultaneous(measures: Mapping[str, Callable[[], float]]) -> Pair:
    """Every side's ``measure()`` at once (each starts its own load generator)."""
    with ThreadPoolExecutor(max_workers=len(measures)) as pool:
        running = {side: pool.submit(measure) for side, measure in measures.items()}
        return {side: future.result() for side, future in running.items()}


def clean_run(
    scenario: ProfiledScenario, target: Target, *, wrk: str | None, concurrency: int, seconds: float
) -> dict[str, Any]:
    """One load run's whole result; a run with errors or no requests measures nothing, so it
    stops the benchmark instead of entering a pair."""
    result = scenario_load(scenario, target, wrk=wrk, concurrency=concurrency, duration=seconds, watched=target.watched)
    if not result.get("requests_per_second") or not result.get("server_cpu_ms_per_request") or result.get("errors"):
        raise RuntimeError(f"{target.name} {scenario}: no clean measurement ({result.get('error_kinds')})")
    return result


def cpu_per_request(scenario: ProfiledScenario, target: Target, wrk: str | None, seconds: float) -> float:
    """Server CPU ms per request of one load run at the pairs' concurrency (c=10)."""
    result = clean_run(scenario, target, wrk=wrk, concurrency=CONCURRENCY, seconds=seconds)
    return float(result["server_cpu_ms_per_request"])


def ratios(pairs: Sequence[Mapping[str, float]], numerator: str, denominator: str) -> list[float]:
    return [pair[numerator] / pair[denominator] for pair in pairs if pair.get(denominator)]


def median_ratio(pairs: Sequence[Mapping[str, float]], numerator: str, denominator: str) -> float | None:
    values = ratios(pairs, numerator, denominator)
    return statistics.median(values) if values else None
