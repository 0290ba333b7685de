"""The throughput targets (issue 17) as one table: goal, this run's number, met or not.

Every number is a ratio or a difference within one run (see README: the machine is shared).
The measured setup is Daphne + PostgreSQL + Redis with auth, limits, usage and metrics on
(``oarlock-daphne-postgres``); the comparisons use the rows beside it.
"""

from __future__ import annotations

import statistics
from collections.abc import Mapping
from typing import Any

from bench.interleaved_pairs import median_ratio, ratios

MAIN = "oarlock-daphne-postgres"
NO_METRICS = "oarlock-daphne-no-metrics-postgres"
TWO_WORKERS = "oarlock-daphne-2-workers-postgres"
# Daphne passing bytes to the mock and back, nothing else (bench/passthrough_asgi.py).
PASSTHROUGH = "daphne-passthrough"


def _run(report: Mapping[str, Any], target: str, scenario: str, key: str | int) -> Mapping[str, Any] | None:
    return report["targets"].get(target, {}).get(scenario, {}).get(str(key))


def _num(run: Mapping[str, Any] | None, *path: str) -> float | None:
    value: Any = run
    for part in path:
        if not isinstance(value, Mapping) or part not in value:
            return None
        value = value[part]
    return float(value) if value is not None else None


def _div(a: float | None, b: float | None) -> float | None:
    return a / b if a is not None and b else None


def _sub(a: float | None, b: float | None) -> float | None:
    return a - b if a is not None and b is not None else None


def _row(
    measure: str, goal: str, value: float | None, text: str, met: bool | None, passthrough: str = "–"
) -> list[str]:
    verdict = "–" if value is None or met is None else ("met" if met else "missed")
    return [measure, goal, text if value is not None else "–", verdict, passthrough]


def _times(value: float | None) -> str:
    return f"{value:.2f}×" if value is not None else "–"


def _ms(value: float | None) -> str:
    return f"{value:.2f} ms" if value is not None else "–"


def _litellm_ratio(report: Mapping[str, Any], target: str, scenario: str) -> tuple[float | None, float | None]:
    """``target``'s req/s ÷ LiteLLM's at c=10, and the same per busy core (CPU per request)."""
    rps = ("requests_per_second",)
    cpu = ("server_cpu_ms_per_request",)
    ratio = _div(_num(_run(report, target, scenario, 10), *rps), _num(_run(report, "litellm", scenario, 10), *rps))
    per_core = _div(_num(_run(report, "litellm", scenario, 10), *cpu), _num(_run(report, target, scenario, 10), *cpu))
    return ratio, per_core


def _added(report: Mapping[str, Any], target: str, scenario: str, key: str | int, measure: str) -> float | None:
    """``target``'s p50 of ``measure`` minus the floor's (the mock called directly)."""
    return _sub(
        _num(_run(report, target, scenario, key), measure, "p50"),
        _num(_run(report, "floor", scenario, key), measure, "p50"),
    )


def target_rows(report: Mapping[str, Any]) -> list[list[str]]:
    """Each target of issue 17: goal, Oarlock's number, verdict, and the pass-through's number
    (``bench/passthrough_asgi.py``: Daphne and the upstream connection alone) where it has one."""
    cpu = ("server_cpu_ms_per_request",)
    rows = []
    for scenario, label, goal in (
        ("non_streaming", "non-streaming req/s ÷ LiteLLM (c=10)", 10.0),
        ("chat_streaming", "streams/s ÷ LiteLLM (c=10)", 15.0),
    ):
        ratio, per_core = _litellm_ratio(report, MAIN, scenario)
        floor_ratio, floor_per_core = _litellm_ratio(report, PASSTHROUGH, scenario)
        rows.append(
            _row(
                label,
                f"≥ {goal:.0f}×",
                ratio,
                f"{_times(ratio)} measured, {_times(per_core)} per busy core (CPU per request)",
                ratio is not None and ratio >= goal,
                f"{_times(floor_ratio)}, {_times(floor_per_core)} per busy core" if floor_ratio is not None else "–",
            )
        )
    added_p50 = _added(report, MAIN, "non_streaming", 1, "latency_ms")
    rows.append(
        _row(
            "added p50 latency, c=1",
            "≤ 1.0 ms",
            added_p50,
            _ms(added_p50),
            added_p50 is not None and added_p50 <= 1.0,
            _ms(_added(report, PASSTHROUGH, "non_streaming", 1, "latency_ms")),
        )
    )
    for scenario, label in (
        ("chat_streaming", "added time to first token (chat)"),
        ("responses_streaming", "added time to first token (Responses)"),
    ):
        added = _added(report, MAIN, scenario, "ttft", "first_byte_ms")
        rows.append(
            _row(
                label,
                "≤ 1.5 ms",
                added,
                _ms(added),
                added is not None and added <= 1.5,
                _ms(_added(report, PASSTHROUGH, scenario, "ttft", "first_byte_ms")),
            )
        )
    rows.append(_responses_row(report))
    rows.append(_worker_scaling_row(report))
    paired = report.get("metrics_ab")
    for scenario, label in (
        ("non_streaming", "non-streaming"),
        ("chat_streaming", "chat stream"),
        ("responses_streaming", "Responses stream"),
    ):
        if paired is not None:
            # Pairs (bench/metrics_ab.py): the verdict the run's drift cannot flip.
            cost = paired["cost"].get(scenario)
            pairs = paired["pairs"].get(scenario, [])
            spread = [ratio - 1 for ratio in ratios(pairs, "with", "without")]
            kind = "simultaneous" if paired.get("simultaneous") else "interleaved"
            detail = (
                f"{(cost or 0) * 100:+.1f} % (median of {len(pairs)} {kind} pairs, "
                f"{min(spread, default=0) * 100:+.1f} to {max(spread, default=0) * 100:+.1f} %)"
            )
            control = paired.get("control")
            if control is not None:
                # Two identical servers measured the same way (bench/metrics_ab.py).
                equal = [ratio - 1 for ratio in ratios(control["pairs"].get(scenario, []), "a", "b")]
                detail += (
                    f"; A/A control {(control['difference'].get(scenario) or 0) * 100:+.1f} % "
                    f"({min(equal, default=0) * 100:+.1f} to {max(equal, default=0) * 100:+.1f} %)"
                )
        else:
            with_metrics = _num(_run(report, MAIN, scenario, 10), *cpu)
            without = _num(_run(report, NO_METRICS, scenario, 10), *cpu)
            cost = _div(_sub(with_metrics, without), without)
            detail = f"{(cost or 0) * 100:+.1f} % ({with_metrics or 0:.3f} with vs {without or 0:.3f} ms without)"
        rows.append(
            _row(f"metrics cost, CPU per request ({label})", "≤ 3 %", cost, detail, cost is not None and cost <= 0.03)
        )
    return rows


def _responses_row(report: Mapping[str, Any]) -> list[str]:
    """Responses ÷ chat stream CPU: the median of simultaneous pairs on two servers of the
    measured setup (``bench/responses_ab.py``), else the two setup runs' numbers."""
    label, goal = "Responses stream CPU ÷ chat stream CPU", "≤ 1.15×"
    paired = report.get("responses_ab")
    if paired is not None:
        pairs = paired["pairs"]
        ratio = median_ratio(pairs, "responses", "chat")
        spread = ratios(pairs, "responses", "chat")
        text = (
            f"{_times(ratio)} (median of {len(pairs)} simultaneous pairs, "
            f"{_times(min(spread, default=None))} to {_times(max(spread, default=None))})"
        )
        return _row(label, goal, ratio, text, ratio is not None and ratio <= 1.15)
    cpu = ("server_cpu_ms_per_request",)
    responses_cpu = _num(_run(report, MAIN, "responses_streaming", 10), *cpu)
    chat_cpu = _num(_run(report, MAIN, "chat_streaming", 10), *cpu)
    ratio = _div(responses_cpu, chat_cpu)
    text = f"{_times(ratio)} ({responses_cpu or 0:.2f} vs {chat_cpu or 0:.2f} ms)"
    return _row(label, goal, ratio, text, ratio is not None and ratio <= 1.15)


def _worker_scaling_row(report: Mapping[str, Any]) -> list[str]:
    """2 workers ÷ 1: the median of interleaved pairs (``bench/worker_scaling_ab.py``), else
    the two setup runs' numbers. Met only if it holds at both c=10 and c=100: c=10 is ten
    keep-alive connections, which the pool must spread over its workers
    (``oarlock/connection_balance.py``) as it would a proxy's pool."""
    label, goal = "2 workers ÷ 1 worker, non-streaming req/s", "≥ 1.7×"
    paired = report.get("worker_scaling_ab")
    if paired is not None:
        scaling = {int(c): median_ratio(pairs, "two", "one") for c, pairs in paired["pairs"].items()}
        spreads = {int(c): ratios(pairs, "two", "one") for c, pairs in paired["pairs"].items()}
        detail = ", ".join(
            f"c={c}: {_times(scaling.get(c))} ({_times(min(spreads[c], default=None))}–"
            f"{_times(max(spreads[c], default=None))})"
            for c in sorted(scaling)
        )
        rounds = max((len(pairs) for pairs in paired["pairs"].values()), default=0)
        text = f"{detail}; median of {rounds} interleaved pairs"
        ceilings = {
            int(c): statistics.median(pair["ceiling"] for pair in pairs)
            for c, pairs in paired["pairs"].items()
            if pairs and all("ceiling" in pair for pair in pairs)
        }
        if ceilings:
            # bench/worker_scaling_ab.py: the machine's cores ÷ the cores it kept busy with one worker.
            text += "; this machine's ceiling " + ", ".join(f"c={c}: {_times(ceilings[c])}" for c in sorted(ceilings))
    else:
        rps = ("requests_per_second",)
        scaling = {
            c: _div(
                _num(_run(report, TWO_WORKERS, "non_streaming", c), *rps),
                _num(_run(report, MAIN, "non_streaming", c), *rps),
            )
            for c in (10, 100)
        }
        text = f"c=10: {_times(scaling.get(10))}, c=100: {_times(scaling.get(100))}"
    worst = min((value for value in scaling.values() if value is not None), default=None)
    return _row(label, goal, worst, text, worst is not None and worst >= 1.7)
