"""The throughput targets (issue 17) as one table: goal, this run's number, met or not.

Every number is a ratio or a difference within one run (see README: the machine is shared).
The measured setup is Daphne + PostgreSQL + Redis with auth, limits, usage and metrics on
(``oarlock-daphne-postgres``); the comparisons use the rows beside it.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

MAIN = "oarlock-daphne-postgres"
NO_METRICS = "oarlock-daphne-no-metrics-postgres"
TWO_WORKERS = "oarlock-daphne-2-workers-postgres"


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


def _row(measure: str, goal: str, value: float | None, text: str, met: bool | None) -> list[str]:
    verdict = "–" if value is None or met is None else ("met" if met else "missed")
    return [measure, goal, text if value is not None else "–", verdict]


def _times(value: float | None) -> str:
    return f"{value:.2f}×" if value is not None else "–"


def target_rows(report: Mapping[str, Any]) -> list[list[str]]:
    rps = ("requests_per_second",)
    cpu = ("server_cpu_ms_per_request",)
    rows = []
    for scenario, label, goal in (
        ("non_streaming", "non-streaming req/s ÷ LiteLLM (c=10)", 10.0),
        ("chat_streaming", "streams/s ÷ LiteLLM (c=10)", 15.0),
    ):
        ratio = _div(_num(_run(report, MAIN, scenario, 10), *rps), _num(_run(report, "litellm", scenario, 10), *rps))
        per_core = _div(_num(_run(report, "litellm", scenario, 10), *cpu), _num(_run(report, MAIN, scenario, 10), *cpu))
        rows.append(
            _row(
                label,
                f"≥ {goal:.0f}×",
                ratio,
                f"{_times(ratio)} measured, {_times(per_core)} per busy core (CPU per request)",
                ratio is not None and ratio >= goal,
            )
        )
    added_p50 = _sub(
        _num(_run(report, MAIN, "non_streaming", 1), "latency_ms", "p50"),
        _num(_run(report, "floor", "non_streaming", 1), "latency_ms", "p50"),
    )
    rows.append(
        _row(
            "added p50 latency, c=1",
            "≤ 1.0 ms",
            added_p50,
            f"{added_p50 or 0:.2f} ms",
            added_p50 is not None and added_p50 <= 1.0,
        )
    )
    for scenario, label in (
        ("chat_streaming", "added time to first token (chat)"),
        ("responses_streaming", "added time to first token (Responses)"),
    ):
        added = _sub(
            _num(_run(report, MAIN, scenario, "ttft"), "first_byte_ms", "p50"),
            _num(_run(report, "floor", scenario, "ttft"), "first_byte_ms", "p50"),
        )
        rows.append(_row(label, "≤ 1.5 ms", added, f"{added or 0:.2f} ms", added is not None and added <= 1.5))
    responses_cpu = _num(_run(report, MAIN, "responses_streaming", 10), *cpu)
    chat_cpu = _num(_run(report, MAIN, "chat_streaming", 10), *cpu)
    ratio = _div(responses_cpu, chat_cpu)
    rows.append(
        _row(
            "Responses stream CPU ÷ chat stream CPU",
            "≤ 1.15×",
            ratio,
            f"{_times(ratio)} ({responses_cpu or 0:.2f} vs {chat_cpu or 0:.2f} ms)",
            ratio is not None and ratio <= 1.15,
        )
    )
    scaling = {
        c: _div(
            _num(_run(report, TWO_WORKERS, "non_streaming", c), *rps),
            _num(_run(report, MAIN, "non_streaming", c), *rps),
        )
        for c in (10, 100)
    }
    best = max((value for value in scaling.values() if value is not None), default=None)
    rows.append(
        _row(
            "2 workers ÷ 1 worker, non-streaming req/s",
            "≥ 1.7×",
            best,
            f"c=10: {_times(scaling[10])}, c=100: {_times(scaling[100])}",
            best is not None and best >= 1.7,
        )
    )
    for scenario, label in (
        ("non_streaming", "non-streaming"),
        ("chat_streaming", "chat stream"),
        ("responses_streaming", "Responses stream"),
    ):
        with_metrics = _num(_run(report, MAIN, scenario, 10), *cpu)
        without = _num(_run(report, NO_METRICS, scenario, 10), *cpu)
        cost = _div(_sub(with_metrics, without), without)
        rows.append(
            _row(
                f"metrics cost, CPU per request ({label})",
                "≤ 3 %",
                cost,
                f"{(cost or 0) * 100:+.1f} % ({with_metrics or 0:.3f} with vs {without or 0:.3f} ms without)",
                cost is not None and cost <= 0.03,
            )
        )
    return rows
